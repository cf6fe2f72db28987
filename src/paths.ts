/**
 * Folders the app reads from, found from this file's place rather than the working
 * directory, so `npm start` and the tests work from anywhere.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const VIEWS_DIR = path.join(ROOT_DIR, 'views');
export const PUBLIC_DIR = path.join(ROOT_DIR, 'public');
export const NODE_MODULES_DIR = path.join(ROOT_DIR, 'node_modules');
