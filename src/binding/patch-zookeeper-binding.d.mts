// Types for the install-time patch script (plain JavaScript: it runs before anything is compiled).
export declare const PATCH_VERSION: number;
export declare const EDITS: ReadonlyArray<{ why: string; find: string; replace: string }>;
export declare function patchSource(pristine: string): { text: string; missing?: undefined } | { text?: undefined; missing: string[] };
