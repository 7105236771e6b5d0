// A step's check results: the outcome, then each check with its probe as
// `source → target:port`, what was expected and what the network did, and why in plain words.
import { h } from '../dom.ts';
import type { CheckResultView, StepResultView } from '../../shared/api.ts';

const outcomeText: Record<StepResultView['outcome'], string> = {
  passed: 'Passed',
  failed: 'Not yet',
  'could-not-check': 'Could not check',
  'not-enforcing': 'The network is not enforcing policies',
};

const statusIcon: Record<CheckResultView['status'], string> = { pass: '✓', fail: '✗', error: '?' };

export function renderResult(result: StepResultView): HTMLElement {
  return h('div', { class: `result ${result.outcome}`, 'data-outcome': result.outcome },
    h('div', { class: 'result-head' }, h('strong', {}, outcomeText[result.outcome]), h('span', {}, result.summary)),
    h('ul', { class: 'checks' }, ...result.checks.map(renderCheck)),
  );
}

function renderCheck(c: CheckResultView): HTMLElement {
  return h('li', { class: `check ${c.status}`, 'data-check': c.id },
    h('span', { class: 'icon', 'aria-label': c.status }, statusIcon[c.status]),
    h('div', { class: 'body' },
      h('div', { class: 'title' }, c.title),
      c.probe
        ? h('div', { class: 'probe' },
            h('code', {}, `${c.probe.source} → ${c.probe.target}:${c.probe.port}${c.probe.protocol !== 'TCP' ? '/' + c.probe.protocol : ''}`),
            h('span', { class: 'expect' }, 'expected ', h('b', {}, c.probe.expected), ', observed ', h('b', { class: c.probe.expected === c.probe.observed ? 'same' : 'differs' }, c.probe.observed)),
          )
        : null,
      c.explanation ? h('p', { class: 'explanation' }, c.explanation) : null,
    ),
  );
}
