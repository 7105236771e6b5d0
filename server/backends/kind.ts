// The kind + Calico backend lives in ./kind/; this module is the path `kubelab serve` loads it by.
export * from './kind/index.ts';
