export { buildApp, type BuildOptions, type HangarApp } from './app.js';
export { runServer } from './main.js';
export { loadConfig, defaultConfig, ConfigError, type Config } from './config/config.js';
export { VERSION } from './version.js';
