import { tuneMalloc } from './malloc-tuning';

// Imported first by main.ts, so that a re-execution happens before the rest of the agent loads.
tuneMalloc();
