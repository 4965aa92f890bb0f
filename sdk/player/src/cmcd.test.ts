import { encodeCmcd as cmlEncode, toCmcdHeaders as cmlHeaders } from '@svta/cml-cmcd';
import { describe, expect, it } from 'vitest';
import { seeded } from '../test/helpers';
import { appendCmcdQuery, encodeCmcd, toCmcdHeaders, type CmcdData } from './cmcd';

// The CTA-5004 example (section 4) as common-media-library encodes it for version 1.
const SPEC: CmcdData = {
  bl: 21300,
  br: 3200,
  bs: true,
  cid: 'faec5fc2-ac30-11eabb37-0242ac130002',
  d: 4004,
  dl: 18500,
  mtp: 48100,
  nor: '../300kbps/track.m4v',
  nrr: '12323-48763',
  ot: 'v',
  pr: 1.08,
  rtp: 12000,
  sf: 'd',
  sid: '6e2fb550-c457-11e9-bb97-0800200c9a66',
  st: 'v',
  su: true,
  tb: 6000,
};

describe('CMCD v1', () => {
  it('encodes the CTA-5004 example payload', () => {
    expect(encodeCmcd(SPEC)).toBe(
      'bl=21300,br=3200,bs,cid="faec5fc2-ac30-11eabb37-0242ac130002",d=4004,dl=18500,mtp=48100,' +
        'nor="..%2F300kbps%2Ftrack.m4v",nrr="12323-48763",ot=v,pr=1.08,rtp=12000,sf=d,' +
        'sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=v,su,tb=6000',
    );
  });

  it('shards headers as CTA-5004 section 3.1 assigns keys', () => {
    expect(toCmcdHeaders(SPEC)).toEqual({
      'CMCD-Object': 'br=3200,d=4004,ot=v,tb=6000',
      'CMCD-Request': 'bl=21300,dl=18500,mtp=48100,nor="..%2F300kbps%2Ftrack.m4v",nrr="12323-48763",su',
      'CMCD-Session': 'cid="faec5fc2-ac30-11eabb37-0242ac130002",pr=1.08,sf=d,sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=v',
      'CMCD-Status': 'bs,rtp=12000',
    });
  });

  it('rounds integers, rounds bl/dl/mtp/rtp to 100, omits pr=1, v=1, false and negative values', () => {
    expect(encodeCmcd({ br: 3199.6, bl: 21349, mtp: 48151, d: 4004.4, pr: 1, v: 1, su: false, bs: false, tb: -5, sid: 's' })).toBe(
      'bl=21300,br=3200,d=4004,mtp=48200,sid="s"',
    );
    expect(encodeCmcd({ pr: 1.23456 })).toBe('pr=1.235');
    expect(encodeCmcd({ br: NaN, bl: Infinity })).toBe('');
  });

  it('escapes quotes and backslashes and truncates sid/cid to 64 characters', () => {
    expect(encodeCmcd({ cid: 'a"b\\c' })).toBe('cid="a\\"b\\\\c"');
    expect(encodeCmcd({ sid: 'x'.repeat(80) })).toBe(`sid="${'x'.repeat(64)}"`);
  });

  it('matches common-media-library (version 1) on random data, as payload and as header shards', () => {
    const r = seeded(5);
    const ots = ['m', 'a', 'v', 'av', 'i', 'c', 'tt', 'k', 'o'] as const;
    for (let i = 0; i < 500; i++) {
      const d: CmcdData = {};
      if (r() < 0.7) d.br = Math.round(r() * 20000);
      if (r() < 0.7) d.bl = Math.round(r() * 60000);
      if (r() < 0.5) d.bs = true;
      if (r() < 0.5) d.cid = `content-${Math.floor(r() * 1e6)}`;
      if (r() < 0.7) d.d = Math.round(r() * 10000);
      if (r() < 0.3) d.dl = Math.round(r() * 30000);
      if (r() < 0.7) d.mtp = Math.round(r() * 100000);
      if (r() < 0.3) d.nor = `../seg_${Math.floor(r() * 100)}.m4s`;
      if (r() < 0.3) d.nrr = `${Math.floor(r() * 1000)}-${Math.floor(r() * 100000)}`;
      if (r() < 0.7) d.ot = ots[Math.floor(r() * ots.length)];
      if (r() < 0.5) d.pr = [0.5, 1, 1.25, 2][Math.floor(r() * 4)];
      if (r() < 0.3) d.rtp = Math.round(r() * 50000);
      if (r() < 0.7) d.sf = (['d', 'h', 's', 'o'] as const)[Math.floor(r() * 4)];
      d.sid = `sid-${i}`;
      if (r() < 0.7) d.st = r() < 0.5 ? 'v' : 'l';
      if (r() < 0.5) d.su = true;
      if (r() < 0.7) d.tb = Math.round(r() * 20000);
      expect(encodeCmcd(d)).toBe(cmlEncode(d as any, { version: 1 }));
      // CML 2.x shards with the CTA-5004-B (v2) map, which moved `pr` to CMCD-Status; v1 keeps it
      // in CMCD-Session (checked above), so compare the shards without it.
      const { pr: _pr, ...rest } = d;
      expect(toCmcdHeaders(rest)).toEqual(cmlHeaders(rest as any, { version: 1 }));
    }
  });

  it('appends, replaces and keeps fragments in the query form', () => {
    const d: CmcdData = { ot: 'v', sid: 's1', su: true };
    const enc = encodeURIComponent('ot=v,sid="s1",su');
    expect(appendCmcdQuery('https://a.test/x.ts', d)).toBe(`https://a.test/x.ts?CMCD=${enc}`);
    expect(appendCmcdQuery('https://a.test/x.ts?a=1', d)).toBe(`https://a.test/x.ts?a=1&CMCD=${enc}`);
    expect(appendCmcdQuery('https://a.test/x.ts?a=1#frag', d)).toBe(`https://a.test/x.ts?a=1&CMCD=${enc}#frag`);
    expect(appendCmcdQuery('https://a.test/x.ts?CMCD=old&b=2', d)).toBe(`https://a.test/x.ts?CMCD=${enc}&b=2`);
    expect(appendCmcdQuery('https://a.test/x.ts', {})).toBe('https://a.test/x.ts');
    expect(new URL(appendCmcdQuery('https://a.test/x.ts', d)).searchParams.get('CMCD')).toBe('ot=v,sid="s1",su');
  });
});
