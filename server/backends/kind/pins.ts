// Versions this backend is tested against. Each is pinned so that two class runs a month apart
// get the same cluster; override any of them through KindBackendOptions (an offline mirror, a
// newer Calico) rather than editing here.

/** The kind release these defaults come from; its node images need `kind` ≥ this to load images. */
export const KIND_VERSION = 'v0.32.0';

/**
 * Kubernetes 1.33 node image published with kind v0.32.0, pinned by digest as kind's release notes
 * require. 1.33 rather than kind's default 1.36 because the kubectl learners get tops out at 1.33
 * and kubectl supports one minor version of skew.
 */
export const NODE_IMAGE = 'kindest/node:v1.33.12@sha256:3f5c8443c620245e4d355cfe09e96a91ead32ceaa569d3f1ca9edf0cb2fe2ff4';

export const CALICO_VERSION = 'v3.32.1';

/**
 * Manifest-mode Calico (calico-node DaemonSet + calico-kube-controllers in kube-system): no
 * operator, Typha, Goldmane or Whisker, so the lightest install for many small clusters.
 */
export const CALICO_MANIFEST_URL = `https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/calico.yaml`;

/** Calico's default IP pool; calico-node also reads kubeadm's podSubnet, so another range works. */
export const CALICO_POD_SUBNET = '192.168.0.0/16';

/** kind's own default pod range, used with kindnet. */
export const KINDNET_POD_SUBNET = '10.244.0.0/16';

/** Tagged, never `latest`: a `latest` image gets imagePullPolicy Always and the preload is ignored. */
export const NETSHOOT_IMAGE = 'nicolaka/netshoot:v0.16';
