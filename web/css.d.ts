// esbuild bundles CSS imported from TypeScript into app.css; the imports carry no value.
declare module '*.css';
