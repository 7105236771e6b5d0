// Step text: a Handlebars template (the learner's name, their cluster, the lab's namespaces)
// producing Markdown, rendered to HTML without raw HTML. Templates can read the context and use
// if/unless/each/with, nothing else: no custom helpers, no partials, no prototype properties.
import Handlebars from 'handlebars';
import MarkdownIt from 'markdown-it';
import type { QuestionView, RenderedStep } from '../../shared/lab.ts';
import type { Lab, Question, Step } from './types.ts';

/** What step text may refer to, e.g. `{{learner.name}}`, `{{cluster.server}}`, `{{#each namespaces}}`. */
export interface RenderContext {
  learner: { name: string };
  cluster: { server: string };
  /** default: the lab's environment.namespaces */
  namespaces?: string[];
}

interface TemplateContext {
  learner: { name: string };
  cluster: { server: string };
  namespaces: string[];
  lab: { id: string; title: string };
}

const handlebars = Handlebars.create();
const compileOptions = {
  strict: true,
  knownHelpersOnly: true,
  // the built-in block helpers stay; these two reach arbitrary properties or the console
  knownHelpers: { lookup: false, log: false },
  // markdown-it escapes what ends up in HTML; Handlebars' escaping would show up as &amp; in code
  noEscape: true,
} as const;
const runtimeOptions = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false, helpers: {}, partials: {} };

const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false, maxNesting: 20 });
markdown.renderer.rules.fence = (tokens, idx) => {
  const token = tokens[idx];
  const words = token.info.trim().split(/\s+/).filter(Boolean);
  const lang = words[0] && words[0] !== 'run' ? words[0] : '';
  const runnable = words.includes('run');
  const attrs = [`data-code="true"`];
  if (lang) attrs.push(`data-lang="${escapeHtml(lang)}"`);
  if (runnable) attrs.push(`data-run="true"`);
  const cls = lang ? ` class="language-${escapeHtml(lang)}"` : '';
  return `<pre ${attrs.join(' ')}><code${cls}>${escapeHtml(token.content)}</code></pre>\n`;
};
markdown.renderer.rules.code_block = (tokens, idx) => `<pre data-code="true"><code>${escapeHtml(tokens[idx].content)}</code></pre>\n`;
const defaultLinkOpen = markdown.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
markdown.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const href = String(tokens[idx].attrGet('href') ?? '');
  if (/^https?:\/\//i.test(href)) {
    tokens[idx].attrSet('target', '_blank');
    tokens[idx].attrSet('rel', 'noopener noreferrer');
  }
  return defaultLinkOpen(tokens, idx, options, env, self);
};

const forbiddenNames = /\b(__proto__|constructor|prototype|__defineGetter__|__defineSetter__|__lookupGetter__)\b/;

export class TemplateError extends Error {
  /** 1-based position in the template, when Handlebars reported one */
  readonly line?: number;
  readonly column?: number;
  constructor(message: string, line?: number, column?: number) {
    super(message);
    this.name = 'TemplateError';
    this.line = line;
    this.column = column;
  }
}

const compiled = new WeakMap<object, Map<string, HandlebarsTemplateDelegate>>();

function compile(owner: object, source: string): HandlebarsTemplateDelegate {
  let cache = compiled.get(owner);
  if (!cache) compiled.set(owner, (cache = new Map()));
  let t = cache.get(source);
  if (!t) {
    const bad = forbiddenNames.exec(source);
    if (bad) {
      const before = source.slice(0, bad.index).split('\n');
      throw new TemplateError(`"${bad[1]}" may not appear in step text`, before.length, before[before.length - 1].length + 1);
    }
    t = handlebars.compile(source, compileOptions);
    cache.set(source, t);
  }
  return t;
}

/** Run a template; errors become TemplateError with the template's line and column. */
export function expandTemplate(owner: object, source: string, context: TemplateContext): string {
  try {
    return compile(owner, source)(context, runtimeOptions);
  } catch (err) {
    if (err instanceof TemplateError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    // Handlebars ends messages with " - line:column" (column 0-based), or puts "Parse error on line N:" first
    const tail = /^([\s\S]*?) - (\d+):(\d+)$/.exec(msg.split('\n')[0]);
    if (tail) throw new TemplateError(friendlier(tail[1]), Number(tail[2]), Number(tail[3]) + 1);
    const parse = /Parse error on line (\d+):[\s\S]*?\n(Expecting[^\n]*|[^\n]*)$/.exec(msg);
    if (parse) throw new TemplateError(`cannot parse template: ${parse[2].trim()}`, Number(parse[1]));
    throw new TemplateError(msg.split('\n')[0]);
  }
}

const available = 'learner.name, cluster.server, namespaces, lab.id, lab.title';

function friendlier(message: string): string {
  const undef = /^"([^"]+)" not defined in/.exec(message);
  if (undef) return `"${undef[1]}" is not defined; step text can use ${available}`;
  const helper = /used the unknown helper (\S+)/.exec(message);
  if (helper) return `unknown helper "${helper[1]}"; step text can use if, unless, each and with`;
  return message;
}

/** Markdown to HTML: no raw HTML, safe links, bounded nesting. */
export function renderMarkdown(source: string): string {
  return markdown.render(source);
}

/**
 * Step text to HTML. The page shows the step's `title` as its heading, so a first `# heading`
 * saying the same (files keep one to read well on their own) is left out rather than shown twice.
 */
export function renderStepMarkdown(source: string, title: string): string {
  const env = {};
  const tokens = markdown.parse(source, env);
  if (tokens.length >= 3 && tokens[0].type === 'heading_open' && tokens[0].tag === 'h1' && sameTitle(headingText(tokens[1].children ?? []), title)) tokens.splice(0, 3);
  return markdown.renderer.render(tokens, markdown.options, env);
}

type InlineToken = ReturnType<typeof markdown.parseInline>[number];

function headingText(children: InlineToken[]): string {
  return children.map((t) => (t.type === 'text' || t.type === 'code_inline' ? t.content : t.type === 'softbreak' ? ' ' : (t.children ? headingText(t.children) : ''))).join('');
}

function sameTitle(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();
  return norm(a) === norm(b);
}

/** Inline Markdown (an option label, a short prompt) to HTML without the paragraph around it. */
export function renderInlineMarkdown(source: string): string {
  return markdown.renderInline(source);
}

export function templateContext(lab: Lab, context: RenderContext): TemplateContext {
  return {
    learner: { name: context.learner.name },
    cluster: { server: context.cluster.server },
    namespaces: [...(context.namespaces ?? lab.environment.namespaces)],
    lab: { id: lab.id, title: lab.title },
  };
}

/** A context with every field filled, for checking templates before any learner exists. */
export function sampleContext(lab: Pick<Lab, 'id' | 'title' | 'environment'>): TemplateContext {
  return {
    learner: { name: 'Ada' },
    cluster: { server: 'https://127.0.0.1:6443/clusters/sample' },
    namespaces: [...lab.environment.namespaces],
    lab: { id: lab.id, title: lab.title },
  };
}

/**
 * The step as the learner reads it. Throws when the step does not exist; template errors cannot
 * happen for a lab that loaded (loadLab renders every template once with a sample context).
 */
export function renderStep(lab: Lab, stepId: string, context: RenderContext): RenderedStep {
  const index = lab.steps.findIndex((s) => s.id === stepId);
  if (index < 0) throw new Error(`lab ${lab.id} has no step "${stepId}"`);
  const step: Step = lab.steps[index];
  const ctx = templateContext(lab, context);
  const render = (source: string) => renderMarkdown(expandTemplate(step, source, ctx));
  return {
    labId: lab.id,
    id: step.id,
    index,
    title: step.title,
    html: renderStepMarkdown(expandTemplate(step, step.markdown, ctx), step.title),
    hints: step.hints.map(render),
    hasSolution: step.solution !== undefined,
    solutionHtml: step.solution?.explanation ? render(step.solution.explanation) : undefined,
    checks: step.checks.map((c) => ({ id: c.id, title: c.title, kind: c.type })),
  };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A question as the learner sees it: prompt and options as HTML, no answer key. */
export function renderQuestion(question: Question): QuestionView {
  switch (question.type) {
    case 'single':
    case 'multiple':
      return {
        id: question.id,
        kind: question.type,
        prompt: renderMarkdown(question.prompt),
        options: question.options.map((o) => ({ id: o.id, label: renderInlineMarkdown(o.text) })),
      };
    case 'text':
    case 'manifest':
      return { id: question.id, kind: question.type, prompt: renderMarkdown(question.prompt) };
  }
}
