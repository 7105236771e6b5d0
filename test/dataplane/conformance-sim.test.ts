// The conformance suite on the sim data plane. Its verdicts come from the same engine the netns
// plane is checked against, so a sample of the public cases proves the shims' plumbing and the
// tools' output; KUBELAB_CONFORMANCE_FULL=1 runs them all.
import { conformanceSuite } from './conformance.ts';

conformanceSuite('sim', { every: 3 });
