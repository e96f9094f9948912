export { MAX_INVALID_LINES_KEPT, decodeText, hashTypeOf, parseHashList, parseHashText, printable } from "./parse";
export type { HashType, InvalidLine, ParseResult, ParsedHash } from "./parse";
