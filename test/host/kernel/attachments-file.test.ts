// attachments.json records which interfaces secuxflow is attached to. A
// record that does not read back must stop commands (E_STATE), not vanish:
// the interface would look detached, rule changes would skip its kernel, and
// the next write would drop the record for good.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAttachments, writeAttachments, type AttachmentRecord } from '../../../host/kernel/attachments.js';
import { StateStore } from '../../../host/state/store.js';
import { tempDir } from '../../cli/support.js';

const good: AttachmentRecord = {
  iface: 'veth0', ifindex: 7, netns: 4026531840, mode: 'skb', requestedMode: 'auto', policy: 'allow', fail: 'open',
  pinDir: '/sys/fs/bpf/secuxflow/veth0', progId: 42, time: '2026-11-23T00:00:00.000Z',
};

describe('attachments.json', () => {
  it('reads back what was written', () => {
    const store = new StateStore(tempDir('att'));
    writeAttachments(store, [good]);
    expect(readAttachments(store)).toEqual([good]);
  });

  it.each([
    ['ifindex given as text', { attachments: [good, { ...good, iface: 'veth1', ifindex: '8' }] }, /attachment #2 lacks/],
    ['a record that is not an object', { attachments: ['veth0'] }, /attachment #1 lacks/],
    ['attachments not a list', { attachments: { veth0: good } }, /"attachments" is not a list/],
  ])('%s: E_STATE naming the file, and the file is left as it was', (_what, doc, message) => {
    const store = new StateStore(tempDir('att'));
    const path = join(store.dir, 'attachments.json');
    const text = JSON.stringify({ version: 1, ...doc });
    store.ensureDir();
    writeFileSync(path, text);
    expect(() => readAttachments(store)).toThrow(expect.objectContaining({ code: 'E_STATE', message: expect.stringMatching(message) }));
    expect(() => writeAttachments(store, [good])).toThrow(expect.objectContaining({ code: 'E_STATE' }));
    expect(readFileSync(path, 'utf8')).toBe(text);
  });
});
