import { MemoryStore } from "../../src/storage/memory-store.js";
import { storeContract } from "./contract.js";

// The reference implementation: the pure core's tests trust it, so it must pass the same contract as the edge stores.
storeContract("MemoryStore", () => new MemoryStore());
