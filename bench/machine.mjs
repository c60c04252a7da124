// Records the machine description for the report (bench/out/machine.json).
import { machine, writeResult } from "./lib/common.mjs";
console.log(`wrote ${writeResult("machine", machine())}`);
