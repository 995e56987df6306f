export { buildPrompt, type BuiltPrompt, type PromptKind, type PromptParts } from './build-prompt.js'
export { showHiddenCharacters, stripHiddenCharacters } from './hidden-characters.js'
export { HtmlText } from './html-text.js'
export {
  isBotAuthor,
  promptComments,
  type KeptText,
  type PromptAuthor,
  type PromptComment,
  type PromptCommentsOptions,
  type PromptConversation,
  type PromptIssue,
} from './prompt-comments.js'
export { DEFAULT_MAX_PROMPT_CHARS, sanitizeForPrompt, type SanitizeOptions } from './sanitize-for-prompt.js'
export { scrubSecrets, secretScrubber } from './scrub-secrets.js'
