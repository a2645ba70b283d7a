import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { encodeAnnounce, encodeFailure, encodeScrape } from '../../../src/tracker/protocol/bencode-response.ts';
import { bytesToIp, ipToBytes, isPublicAddress } from '../../../src/tracker/protocol/ip.ts';

describe('encodeAnnounce', () => {
  it('writes a dictionary with keys in raw-byte order that decodes to the values', () => {
    const peers = Buffer.from([127, 0, 0, 1, 0x1a, 0xe1]);
    const peers6 = Buffer.concat([ipToBytes('2001:db8::1') as Buffer, Buffer.from([0, 80])]);
    const out = encodeAnnounce({ complete: 3, downloaded: 7, incomplete: 2, interval: 1800, minInterval: 900, peers, peers6, peersEncoded: false });
    expect(out.toString('latin1').startsWith('d8:completei3e10:downloadedi7e10:incompletei2e8:intervali1800e12:min intervali900e5:peers6:')).toBe(true);
    const d = bencode.decode(out) as Record<string, unknown>;
    expect(Buffer.from(d.peers as Uint8Array)).toEqual(peers);
    expect(Buffer.from(d.peers6 as Uint8Array)).toEqual(peers6);
    expect(Buffer.from(bencode.encode(d))).toEqual(out);
  });

  it('omits peers6 when there are no IPv6 peers', () => {
    const out = encodeAnnounce({ complete: 0, downloaded: 0, incomplete: 0, interval: 1, minInterval: 1, peers: Buffer.alloc(0), peers6: Buffer.alloc(0), peersEncoded: false });
    expect(out.toString('latin1')).toBe('d8:completei0e10:downloadedi0e10:incompletei0e8:intervali1e12:min intervali1e5:peers0:e');
  });
});

describe('encodeFailure', () => {
  it('adds BEP 31 retry in when given', () => {
    expect(encodeFailure('slow down', 1).toString()).toBe('d14:failure reason9:slow down8:retry ini1ee');
  });
});

describe('encodeScrape', () => {
  it('sorts files by raw info-hash bytes', () => {
    const a = Buffer.alloc(20, 0xff).toString('latin1');
    const b = Buffer.alloc(20, 0x01).toString('latin1');
    const out = encodeScrape([{ infoHash: a, complete: 1, downloaded: 2, incomplete: 3 }, { infoHash: b, complete: 0, downloaded: 0, incomplete: 0 }]);
    // The bencode package cannot round-trip binary dictionary keys, so compare the bytes.
    expect(out.toString('latin1')).toBe(`d5:filesd20:${b}d8:completei0e10:downloadedi0e10:incompletei0ee20:${a}d8:completei1e10:downloadedi2e10:incompletei3eeee`);
  });
});

describe('ip', () => {
  it('parses IPv4, IPv4-mapped IPv6 and compressed IPv6', () => {
    expect(ipToBytes('203.0.113.7')).toEqual(Buffer.from([203, 0, 113, 7]));
    expect(ipToBytes('::ffff:127.0.0.1')).toEqual(Buffer.from([127, 0, 0, 1]));
    expect(ipToBytes('::FFFF:7f00:1')).toEqual(Buffer.from([127, 0, 0, 1]));
    expect(ipToBytes('0:0:0:0:0:ffff:203.0.113.7')).toEqual(Buffer.from([203, 0, 113, 7]));
    expect(isPublicAddress(ipToBytes('::ffff:a00:1') as Buffer)).toBe(false);
    expect(ipToBytes('::1')?.toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipToBytes('2001:db8::8:800:200c:417a')?.toString('hex')).toBe('20010db8000000000008080020 0c417a'.replace(' ', ''));
    expect(ipToBytes('not an ip')).toBeNull();
    expect(bytesToIp(ipToBytes('2001:db8::1') as Buffer)).toBe('2001:db8::1');
  });

  it('tells public from private, loopback and link-local addresses', () => {
    for (const a of ['10.1.2.3', '127.0.0.1', '192.168.1.1', '172.16.0.1', '169.254.1.1', '::1', 'fe80::1', 'fd00::1']) expect(isPublicAddress(ipToBytes(a) as Buffer), a).toBe(false);
    for (const a of ['203.0.113.9', '8.8.8.8', '2001:db8::1']) expect(isPublicAddress(ipToBytes(a) as Buffer), a).toBe(true);
  });
});
