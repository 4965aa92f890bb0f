/** SDK identity sent as `sdk{name,version}` on every event; kept equal to package.json by a test. */
export const SDK_NAME = '@avtrace/player-sdk';
export const SDK_VERSION = '0.1.0';
