export * from "./jobs";
export * from "./reports";
export * from "./virustotal";
