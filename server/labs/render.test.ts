import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLab, loadLabs } from './loader.ts';
import { TemplateError, expandTemplate, renderMarkdown, renderQuestion, renderStep, renderStepMarkdown } from './render.ts';

const ctx = { learner: { name: 'Ada' }, namespaces: ['shop'], cluster: { server: 'https://x' }, lab: { id: 'l', title: 'L' } };

test('raw HTML in Markdown comes out escaped', () => {
  const html = renderMarkdown('Hello <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n<div>block</div>\n');
  assert.ok(!html.includes('<script>'), html);
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!/<img/i.test(html) && !/<div>/.test(html), html);
});

test('dangerous links are not links', () => {
  const html = renderMarkdown('[a](javascript:alert(1)) [b](vbscript:x) [c](data:text/html;base64,PHNjcmlwdD4=) [ok](https://kubernetes.io/docs/)');
  assert.ok(!/href="javascript:/i.test(html) && !/href="vbscript:/i.test(html) && !/href="data:/i.test(html), html);
  assert.match(html, /<a href="https:\/\/kubernetes.io\/docs\/" target="_blank" rel="noopener noreferrer">ok<\/a>/);
});

test('code fences: data attributes for copy and run, content escaped', () => {
  const html = renderMarkdown('```sh run\nkubectl get pods -n shop <x>\n```\n\n```yaml\nkind: NetworkPolicy\n```\n');
  assert.match(html, /<pre data-code="true" data-lang="sh" data-run="true"><code class="language-sh">kubectl get pods -n shop &lt;x&gt;\n<\/code><\/pre>/);
  assert.match(html, /<pre data-code="true" data-lang="yaml"><code class="language-yaml">kind: NetworkPolicy\n<\/code><\/pre>/);
  assert.ok(!/data-run/.test(html.split('yaml')[1]));
});

test('deep nesting is bounded', () => {
  const html = renderMarkdown('>'.repeat(500) + ' deep');
  assert.ok((html.match(/<blockquote>/g) ?? []).length <= 20);
});

test('Handlebars: the context renders, prototypes are out of reach', () => {
  const owner = {};
  assert.equal(expandTemplate(owner, 'Hi {{learner.name}} in {{#each namespaces}}{{this}}{{/each}}', ctx), 'Hi Ada in shop');
  for (const t of ['{{constructor.constructor}}', '{{learner.__proto__}}', '{{#with learner}}{{constructor}}{{/with}}', '{{lookup learner "__proto__"}}', '{{log "x"}}', '{{> partial}}']) {
    assert.throws(() => expandTemplate(owner, t, ctx), TemplateError, t);
  }
  assert.throws(() => expandTemplate(owner, 'line\n{{learner.nope}}', ctx), (e: unknown) => e instanceof TemplateError && e.line === 2 && e.column === 3);
});

test('Handlebars values are not HTML-escaped twice, and cannot inject HTML', () => {
  const owner = {};
  const md = expandTemplate(owner, 'Name: {{learner.name}}', { ...ctx, learner: { name: '<b>"A&B"</b>' } });
  assert.equal(md, 'Name: <b>"A&B"</b>');
  assert.equal(renderMarkdown(md), '<p>Name: &lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;</p>\n');
});

test('renderStep renders the example lab for a learner', () => {
  const lab = loadLab('labs/example');
  const step = renderStep(lab, 'look-around', { learner: { name: 'Grace <Hopper>' }, cluster: { server: 'https://127.0.0.1:6443/clusters/abc' } });
  assert.equal(step.index, 0);
  assert.match(step.html, /Welcome, Grace &lt;Hopper&gt;/);
  assert.match(step.html, /<code>shop<\/code> and <code>outside<\/code>/);
  assert.match(step.html, /data-run="true"/);
  assert.equal(step.hasSolution, false);
  assert.deepEqual(step.checks.map((c) => c.kind), ['probe', 'probe']);
  assert.equal(renderStep(lab, 'default-deny', { learner: { name: 'x' }, cluster: { server: 's' } }).solutionHtml, '<p>Every pod in shop is now isolated for ingress, and no rule lets anything in.</p>\n');
  assert.throws(() => renderStep(lab, 'nope', { learner: { name: 'x' }, cluster: { server: 's' } }), /no step "nope"/);
});

test('questions as the learner sees them carry no key', () => {
  const lab = loadLab('labs/example');
  const view = renderQuestion(lab.questions[0]);
  assert.deepEqual(Object.keys(view).sort(), ['id', 'kind', 'options', 'prompt']);
  assert.ok(view.options?.every((o) => Object.keys(o).join() === 'id,label'));
  assert.ok(!JSON.stringify(renderQuestion(lab.questions[2])).includes('default-deny-all'));
});

test('a first heading that repeats the step title is left out; any other heading stays', () => {
  assert.equal(renderStepMarkdown('# Deny all *ingress*\n\nText.\n', 'Deny all ingress'), '<p>Text.</p>\n');
  assert.equal(renderStepMarkdown('#  deny ALL `ingress`\n\nText.\n', 'Deny all ingress'), '<p>Text.</p>\n');
  assert.equal(renderStepMarkdown('# Something else\n\nText.\n', 'Deny all ingress'), '<h1>Something else</h1>\n<p>Text.</p>\n');
  assert.equal(renderStepMarkdown('Intro.\n\n# Deny all ingress\n', 'Deny all ingress'), '<p>Intro.</p>\n<h1>Deny all ingress</h1>\n');
  assert.equal(renderStepMarkdown('## Deny all ingress\n', 'Deny all ingress'), '<h2>Deny all ingress</h2>\n');
});

test('shipped labs: no step shows its title twice', () => {
  const { labs, problems } = loadLabs('labs');
  assert.deepEqual(problems, []);
  assert.ok(labs.length >= 2);
  for (const lab of labs) {
    for (const s of lab.steps) {
      const html = renderStep(lab, s.id, { learner: { name: 'x' }, cluster: { server: 'y' } }).html;
      const h1 = /^<h1>(.*?)<\/h1>/.exec(html);
      assert.ok(!h1, `${lab.id}/${s.id}: the text starts with a heading "${h1?.[1]}" beside the title "${s.title}"`);
    }
  }
});
