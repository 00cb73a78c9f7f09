/** The `version` every state file carries (rules.json, modules.json, attachments.json). */
export const STATE_FILE_VERSION = 1;
