// The conformance suite on the netns data plane: every public case (the kernel decides).
import { conformanceSuite } from './conformance.ts';

conformanceSuite('netns', { concurrency: 2 });
