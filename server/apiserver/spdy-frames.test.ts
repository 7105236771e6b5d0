import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dataFrames,
  decodeFrame,
  FLAG_FIN,
  FrameSplitter,
  goAwayFrame,
  HEADER_DICTIONARY,
  HeaderCompression,
  MAX_DATA_CHUNK,
  parseHeaderBlock,
  pingFrame,
  rstStreamFrame,
  serializeHeaderBlock,
  SpdyProtocolError,
  synReplyFrame,
  synStreamFrame,
  type SpdyFrame,
} from './spdy-frames.ts';

test('the header dictionary is the SPDY/3 one: 1423 bytes, zlib dictionary id 0xe3c6a7c2', () => {
  assert.equal(HEADER_DICTIONARY.length, 1423);
  assert.equal(HEADER_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.equal(HEADER_DICTIONARY.subarray(-7).toString('latin1'), ',enq=0.');
  // the dictionary id a zlib stream primed with it carries (FDICT), which Go's reader checks
  assert.equal(adler32(HEADER_DICTIONARY), 0xe3c6a7c2);
});

test('header blocks: count, then length-prefixed names and NUL-joined values; names lower-cased', () => {
  const block = serializeHeaderBlock(new Map([['StreamType', ['error']], ['x', ['a', 'b']]]));
  assert.equal(block.toString('hex'), '00000002' + '0000000a' + Buffer.from('streamtype').toString('hex') + '00000005' + Buffer.from('error').toString('hex') + '00000001' + '78' + '00000003' + '610062');
  assert.deepEqual(parseHeaderBlock(block), new Map([['streamtype', ['error']], ['x', ['a', 'b']]]));
  assert.throws(() => parseHeaderBlock(block.subarray(0, 20)), /header block ends inside header streamtype's value/);
  assert.throws(() => parseHeaderBlock(Buffer.alloc(2)), /ends inside the pair count/);
});

test('header compression: one context per direction, blocks decoded in order, each sync-flushed', async () => {
  const sender = new HeaderCompression();
  const receiver = new HeaderCompression();
  const blocks = await Promise.all(['error', 'stdin', 'stdout', 'stderr'].map((t) => sender.encode(new Map([['streamtype', [t]]]))));
  // the first block opens the zlib stream with the dictionary id; later ones continue it
  assert.equal(blocks[0][0], 0x78);
  assert.equal(blocks[0].readUInt32BE(2), 0xe3c6a7c2);
  for (const b of blocks) assert.equal(b.subarray(-4).toString('hex'), '0000ffff', 'ends with a sync flush');
  assert.ok(blocks[3].length < blocks[0].length, 'later blocks reuse the window');
  const decoded = await Promise.all(blocks.map((b) => receiver.decode(b)));
  assert.deepEqual(decoded.map((h) => h.get('streamtype')), [['error'], ['stdin'], ['stdout'], ['stderr']]);
  // a block out of order cannot be read: the context moved on
  const fresh = new HeaderCompression();
  await assert.rejects(fresh.decode(blocks[2]), SpdyProtocolError);
  sender.close();
  receiver.close();
  fresh.close();
});

test('frames survive being cut at every byte', async () => {
  const sender = new HeaderCompression();
  const wire = Buffer.concat([
    synStreamFrame(1, await sender.encode(new Map([['streamtype', ['stdin']]]))),
    dataFrames(1, Buffer.from('hello')),
    dataFrames(1, Buffer.alloc(0), true),
    pingFrame(7),
    rstStreamFrame(3, 5),
    goAwayFrame(1),
  ]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const splitter = new FrameSplitter();
    const raws = [...splitter.push(wire.subarray(0, cut)), ...splitter.push(wire.subarray(cut))];
    assert.equal(raws.length, 6, `cut at ${cut}`);
  }
  const receiver = new HeaderCompression();
  const frames: SpdyFrame[] = [];
  for (const raw of new FrameSplitter().push(wire)) frames.push(await decodeFrame(raw, receiver));
  assert.deepEqual(frames, [
    { type: 'syn_stream', streamId: 1, associatedId: 0, fin: false, unidirectional: false, headers: new Map([['streamtype', ['stdin']]]) },
    { type: 'data', streamId: 1, fin: false, data: Buffer.from('hello') },
    { type: 'data', streamId: 1, fin: true, data: Buffer.alloc(0) },
    { type: 'ping', id: 7 },
    { type: 'rst_stream', streamId: 3, status: 5 },
    { type: 'goaway', lastGoodStreamId: 1, status: 0 },
  ]);
  sender.close();
  receiver.close();
});

test('frame heads as Go reads them: control bit, version 3, type, flags, 24-bit length', async () => {
  const reply = synReplyFrame(5, Buffer.from('zz'), true);
  assert.equal(reply.subarray(0, 8).toString('hex'), '80030002' + '01000006');
  assert.equal(reply.readUInt32BE(8), 5);
  assert.equal(pingFrame(9).toString('hex'), '80030006' + '00000004' + '00000009');
  assert.equal(goAwayFrame(3).toString('hex'), '80030007' + '00000008' + '00000003' + '00000000');
  const data = dataFrames(3, Buffer.alloc(MAX_DATA_CHUNK * 2 + 1), true);
  const raws = new FrameSplitter().push(data);
  assert.deepEqual(raws.map((r) => [r.streamId, r.flags, r.payload.length]), [[3, 0, MAX_DATA_CHUNK], [3, 0, MAX_DATA_CHUNK], [3, FLAG_FIN, 1]]);
});

test('bad input: other versions, oversized frames, short control frames, DATA on stream 0', async () => {
  const c = new HeaderCompression();
  const v2ping = pingFrame(1);
  v2ping.writeUInt16BE(0x8002, 0);
  await assert.rejects(decodeFrame(new FrameSplitter().push(v2ping)[0], c), /unsupported SPDY version 2 \(want 3\)/);
  const huge = Buffer.from('0000000100ffffff', 'hex');
  assert.throws(() => new FrameSplitter().push(huge), /frame of 16777215 bytes is over the limit/);
  const shortRst = Buffer.from('800300030000000400000001', 'hex');
  await assert.rejects(decodeFrame(new FrameSplitter().push(shortRst)[0], c), /RST_STREAM frame of 4 bytes is too short/);
  await assert.rejects(decodeFrame(new FrameSplitter().push(dataFrames(0, Buffer.from('x')))[0], c), /DATA frame on stream 0/);
  c.close();
});

function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
