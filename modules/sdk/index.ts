// What a module imports: `import { Inspector, Packet, register, ... } from "../sdk"`.
export * from "./runtime/abi";
export * from "./runtime/packet";
export * from "./runtime/search";
export * from "./runtime/json";
export * from "./runtime/jsonwriter";
export * from "./runtime/flowmap";
export * from "./runtime/config";
export * from "./runtime/emit";
export * from "./runtime/inspector";
