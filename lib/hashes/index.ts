export { MAX_INVALID_LINES_KEPT, hashTypeOf, parseHashList, parseHashText } from "./parse";
export type { HashType, InvalidLine, ParseResult, ParsedHash } from "./parse";
