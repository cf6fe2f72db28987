/**
 * The message catalogue: every piece of UI text and every error message, in each
 * supported language. English is the reference; other languages must have every key
 * (the type says so), so a missing translation fails the type check, not a user.
 */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

const en = {
  appName: 'Captcha Login',
  languageName: 'English',
  languageSwitchLabel: 'Language',
  loginTitle: 'Sign in',
  registerTitle: 'Create an account',
  username: 'Username',
  password: 'Password',
  captcha: 'Captcha',
  captchaHelp: 'Type the letters and digits in the picture, left to right, or choose "Listen" to hear them. Capitals or not, either is fine.',
  captchaImageAlt: 'Captcha picture: type the characters it shows. Choose "Listen" to hear them, or "New picture" if it is hard to read.',
  captchaRefresh: 'New picture',
  captchaImageError: 'The picture could not be loaded (too many new pictures, or the connection). Wait a moment, then choose "New picture".',
  captchaListen: 'Listen',
  captchaAudioPlaying: 'Playing…',
  captchaAudioEnded: 'Finished. Choose "Listen" to hear it again.',
  captchaAudioError: 'The sound could not be loaded (too many requests, an expired captcha, or the connection). Choose "New picture", then "Listen".',
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  register: 'Create account',
  registering: 'Creating account…',
  noAccount: 'No account yet?',
  registerLink: 'Create one',
  haveAccount: 'Already have an account?',
  loginLink: 'Sign in',
  usernameRules: '3 to 32 characters: letters, digits, dot, dash or underscore.',
  passwordRules: 'At least 8 characters, any characters you like. Common or easily guessed passwords are refused.',
  strengthLabel: 'Strength',
  strength0: 'very weak',
  strength1: 'weak',
  strength2: 'fair',
  strength3: 'good',
  strength4: 'strong',
  homeTitle: 'Home',
  greeting: 'Hello, {name}!',
  signedInAs: 'You are signed in as {name}.',
  signOut: 'Sign out',
  notFoundTitle: 'Page not found',
  notFoundText: 'There is nothing at this address.',
  errorTitle: 'Something went wrong',
  backToStart: 'Back to the start page',
  networkError: 'The server could not be reached. Check your connection and try again.',
  errors: {
    invalid_request: 'The request was not valid. Reload the page and try again.',
    invalid_json: 'The request body is not valid JSON.',
    payload_too_large: 'The request is too large.',
    unsupported_media_type: 'Send the form as JSON.',
    captcha_missing: 'That captcha was already used or has not been loaded. Type the characters in the new picture.',
    captcha_expired: 'The captcha has expired. Type the characters in the new picture.',
    captcha_wrong: 'The captcha was not typed correctly. Try the new picture.',
    captcha_audio_missing: 'There is no captcha to listen to: it was used or never loaded. Choose "New picture", then "Listen".',
    captcha_audio_expired: 'This captcha has expired. Choose "New picture", then "Listen".',
    bad_credentials: 'Wrong username or password.',
    invalid_username: 'Choose a username of 3 to 32 characters: letters, digits, dot, dash or underscore.',
    invalid_password: 'Choose a password of at least 8 characters.',
    username_taken: 'That username is taken. Choose another one.',
    weak_password: 'That password is too easy to guess. Try a longer phrase of unrelated words.',
    rate_limited: 'Too many attempts from your network. Wait a moment, then try again.',
    csrf_failed: 'This page has expired. Reload it and try again.',
    cross_site_request: 'Requests from other sites are not accepted.',
    not_found: 'There is nothing at this address.',
    busy: 'The server is busy. Wait a moment, then try again.',
    store_unavailable: 'The service is briefly unavailable. Nothing you sent was lost; try again in a few seconds.',
    internal: 'Something went wrong on our side. Please try again.',
  },
};

export type Messages = typeof en;
export type ErrorCode = keyof Messages['errors'];
export type MessageKey = Exclude<keyof Messages, 'errors'>;

const zhCN: Messages = {
  appName: '验证码登录',
  languageName: '简体中文',
  languageSwitchLabel: '语言',
  loginTitle: '登录',
  registerTitle: '注册账号',
  username: '用户名',
  password: '密码',
  captcha: '验证码',
  captchaHelp: '请从左到右输入图片中的字母和数字，也可点击“播放语音”收听，不区分大小写。',
  captchaImageAlt: '验证码图片：请输入图中的字符。可点击“播放语音”收听，看不清可点击“换一张”。',
  captchaRefresh: '换一张',
  captchaImageError: '验证码图片加载失败（换图过于频繁或网络问题）。请稍候，再点击“换一张”。',
  captchaListen: '播放语音',
  captchaAudioPlaying: '正在播放…',
  captchaAudioEnded: '播放完毕。再次点击“播放语音”可重听。',
  captchaAudioError: '语音加载失败（请求过于频繁、验证码已过期或网络问题）。请点击“换一张”，再点击“播放语音”。',
  signIn: '登录',
  signingIn: '正在登录…',
  register: '注册',
  registering: '正在注册…',
  noAccount: '还没有账号？',
  registerLink: '立即注册',
  haveAccount: '已有账号？',
  loginLink: '去登录',
  usernameRules: '3 至 32 个字符：字母、数字、点、短横线或下划线。',
  passwordRules: '至少 8 个字符，可使用任意字符。常见或容易被猜到的密码将被拒绝。',
  strengthLabel: '强度',
  strength0: '非常弱',
  strength1: '弱',
  strength2: '一般',
  strength3: '好',
  strength4: '强',
  homeTitle: '首页',
  greeting: '你好，{name}！',
  signedInAs: '你已作为 {name} 登录。',
  signOut: '退出登录',
  notFoundTitle: '页面不存在',
  notFoundText: '此地址没有内容。',
  errorTitle: '出错了',
  backToStart: '返回首页',
  networkError: '无法连接服务器，请检查网络后重试。',
  errors: {
    invalid_request: '请求无效，请刷新页面后重试。',
    invalid_json: '请求内容不是有效的 JSON。',
    payload_too_large: '请求内容过大。',
    unsupported_media_type: '请以 JSON 格式提交表单。',
    captcha_missing: '该验证码已使用或尚未加载，请输入新图片中的字符。',
    captcha_expired: '验证码已过期，请输入新图片中的字符。',
    captcha_wrong: '验证码输入错误，请重新输入新图片中的字符。',
    captcha_audio_missing: '没有可收听的验证码：它已被使用或尚未加载。请点击“换一张”，再点击“播放语音”。',
    captcha_audio_expired: '验证码已过期。请点击“换一张”，再点击“播放语音”。',
    bad_credentials: '用户名或密码错误。',
    invalid_username: '用户名须为 3 至 32 个字符：字母、数字、点、短横线或下划线。',
    invalid_password: '密码至少需要 8 个字符。',
    username_taken: '该用户名已被占用，请换一个。',
    weak_password: '该密码太容易被猜到，请使用更长的、由不相关词语组成的短语。',
    rate_limited: '来自你所在网络的尝试次数过多，请稍候再试。',
    csrf_failed: '页面已过期，请刷新后重试。',
    cross_site_request: '不接受来自其他网站的请求。',
    not_found: '此地址没有内容。',
    busy: '服务器繁忙，请稍候再试。',
    store_unavailable: '服务暂时不可用，你提交的内容不会丢失，请几秒后再试。',
    internal: '服务器出错了，请稍后重试。',
  },
};

const catalogue: Record<Locale, Messages> = { en, 'zh-CN': zhCN };

export type Translate = (key: MessageKey, params?: Record<string, string>) => string;

export function translator(locale: Locale): Translate {
  const messages = catalogue[locale];
  return (key, params = {}) => messages[key].replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}

export function errorMessage(locale: Locale, code: ErrorCode): string {
  return catalogue[locale].errors[code];
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}
