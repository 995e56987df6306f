// Finding slash commands in a comment: the visible text of a CommonMark parse, then one command per line with its arguments.
export { utf8Bytes, leadingCommandName } from './comment-size.js'
export { HtmlVisibility } from './html-visibility.js'
export { parseCommands, type CommandInput, type ParsedCommand } from './parse-commands.js'
export { tokenizeArgs, type ArgToken } from './tokenize-args.js'
export { visibleLines, type VisibleLine } from './visible-lines.js'
