// The metric cardinality guard over real HTTP: a client that puts an unbounded value into a
// metric attribute gets OTLP partial success (rejected_data_points with the metric and the
// limit named) for the points of new series beyond storage.max_series_per_metric; points of
// known series keep being stored; /metrics counts the refusals.
//
// Run: node --test test/integration/cardinality.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { getJson, nowNanos, removeTempRoot, request, startServer } from './harness.mjs';

function gauge(name, values, t) {
  return {
    resourceMetrics: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'card' } }] },
      scopeMetrics: [{
        scope: { name: 'it' },
        metrics: [{
          name,
          gauge: {
            dataPoints: values.map((v) => ({
              timeUnixNano: String(t),
              asInt: String(v),
              attributes: [{ key: 'request.id', value: { stringValue: `req-${v}` } }],
            })),
          },
        }],
      }],
    }],
  };
}

test('points of series beyond max_series_per_metric are refused as partial success', async () => {
  const server = await startServer({ config: { storage: { max_series_per_metric: 5, max_active_series: 100 } } });
  const post = (body) => request(`${server.otlp}/v1/metrics`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  try {
    const t = nowNanos();
    const first = await post(gauge('http.requests.by_id', [1, 2, 3, 4, 5, 6, 7, 8], t));
    assert.equal(first.status, 200);
    const ps = first.json().partialSuccess;
    assert.equal(ps.rejectedDataPoints, '3');
    assert.match(ps.errorMessage, /metric 'http\.requests\.by_id' has 5 active series.*storage\.max_series_per_metric/);

    // Known series still pass; a well-behaved metric is unaffected.
    const second = await post(gauge('http.requests.by_id', [1, 2, 9], t + 1000000n));
    assert.equal(second.json().partialSuccess.rejectedDataPoints, '1');
    const ok = await post(gauge('queue.depth', [1, 2], t));
    assert.deepEqual(ok.json(), {});

    const { body } = await getJson(`${server.http}/api/v1/metrics/http.requests.by_id/series?fn=raw`);
    assert.equal(body.series.length, 5);
    assert.equal(body.series.reduce((n, s) => n + s.points.length, 0), 7);
    const metrics = await (await fetch(`${server.http}/metrics`)).text();
    assert.match(metrics, /avtrace_metric_series_refused_total\{limit="max_series_per_metric"\} 4/);
    assert.match(metrics, /avtrace_metric_series_active 7/);
  } finally {
    assert.equal((await server.stop()).code, 0);
    removeTempRoot(server.root);
  }
});
