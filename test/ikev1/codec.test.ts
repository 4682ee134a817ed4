import t from 'tap';
import {
  BadIdError, BadLengthError, BadProposalSyntaxError, DOI_IPSEC, ExchangeType, HeaderFlag, IdType, InvalidMajorVersionError,
  InvalidPayloadTypeError, IsakmpDecodeError, LimitExceededError, NotifyType, PayloadType, ProtocolId, SIT_IDENTITY_ONLY,
  TruncatedError, UnsupportedDoiError, UnsupportedSituationError, VENDOR_ID_DPD, VENDOR_ID_NAT_T_RFC3947,
  attrNumber, cookieFromBigInt, cookieToBigInt, decodeAttributes, decodeHeader, decodeMessage, decodePayloadChain,
  encodeAttributes, encodeMessage, encodePayloadChain, formatId, fromHex, idFqdn, idIpv4Addr, idIpv4Range, idIpv4Subnet,
  notifyTypeName, tlvNumber, toHex, tv, type Payload,
} from '../../firmware/proto/ikev1/index.js';
import { createHash } from 'node:crypto';
import { buildPhase1Sa, buildQuickModeSa, parsePhase1Transform, parseQuickModeOffer } from '../../firmware/ike/v1/policy.js';

const ckyI = fromHex('0102030405060708');
const ckyR = fromHex('1112131415161718');
const fields = { initiatorCookie: ckyI, responderCookie: ckyR, exchangeType: ExchangeType.IDENTITY_PROTECTION, flags: 0, messageId: 0 };

t.test('header encodes per RFC 2408 3.1', async (t) => {
  const m = encodeMessage(fields, [{ type: PayloadType.VID, data: VENDOR_ID_DPD }]);
  t.equal(m.length, 28 + 4 + 16);
  t.equal(toHex(m.subarray(0, 28)), '0102030405060708' + '1112131415161718' + '0d' + '10' + '02' + '00' + '00000000' + '00000030');
  const h = decodeHeader(m);
  t.equal(h.nextPayload, PayloadType.VID);
  t.equal(h.length, 48);
  t.equal(cookieToBigInt(h.initiatorCookie), 0x0102030405060708n);
  t.same(cookieFromBigInt(0xfffffffffffffffen), fromHex('fffffffffffffffe'));
  // message id with the top bit set stays unsigned
  const m2 = encodeMessage({ ...fields, messageId: 0xdeadbeef }, []);
  t.equal(decodeHeader(m2).messageId, 0xdeadbeef);
});

t.test('well-known vendor IDs', async (t) => {
  t.equal(toHex(VENDOR_ID_NAT_T_RFC3947), createHash('md5').update('RFC 3947').digest('hex'));
  t.equal(toHex(VENDOR_ID_DPD), 'afcad71368a1f1c96b8696fc77570100');
  t.equal(notifyTypeName(NotifyType.INVALID_PAYLOAD_TYPE), 'INVALID-PAYLOAD-TYPE');
  t.equal(notifyTypeName(NotifyType.INITIAL_CONTACT), 'INITIAL-CONTACT');
  t.equal(notifyTypeName(NotifyType.RESPONDER_LIFETIME), 'RESPONDER-LIFETIME');
  t.equal(notifyTypeName(NotifyType.R_U_THERE_ACK), 'R-U-THERE-ACK');
});

t.test('attributes TV/TLV round trip', async (t) => {
  const attrs = [tv(1, 7), tv(14, 256), tlvNumber(12, 86400), tlvNumber(2, 0x1_0000_0000), { type: 6, format: 'tlv' as const, value: fromHex('') }];
  const enc = encodeAttributes(attrs);
  t.equal(toHex(enc.subarray(0, 4)), '80010007');
  t.equal(toHex(enc.subarray(8, 16)), '000c000400015180', 'life duration as 4-byte TLV');
  const dec = decodeAttributes(enc, 0);
  t.same(dec, attrs);
  t.equal(attrNumber(dec[2]!), 86400);
  t.equal(attrNumber(dec[3]!), 0x1_0000_0000);
  t.throws(() => decodeAttributes(fromHex('000c0008000151'), 40), BadLengthError);
  t.throws(() => decodeAttributes(fromHex('8001'), 40), TruncatedError);
  try {
    decodeAttributes(fromHex('80010007000c0008000151'), 40);
  } catch (e) {
    t.ok(e instanceof BadLengthError);
    t.equal((e as BadLengthError).offset, 46, 'offset points at the bad length field');
  }
});

t.test('full message with every payload type round trips', async (t) => {
  const payloads: Payload[] = [
    buildPhase1Sa([{ priority: 10, encryption: 'aes256', hash: 'sha', authentication: 'pre-share', group: 2, lifetimeSec: 86400 }, { priority: 20, encryption: '3des', hash: 'md5', authentication: 'pre-share', group: 2, lifetimeSec: 3600 }]),
    { type: PayloadType.KE, keyData: fromHex('aa'.repeat(128)) },
    { type: PayloadType.NONCE, data: fromHex('bb'.repeat(32)) },
    idIpv4Addr('10.0.0.1', 17, 500),
    idIpv4Subnet('192.168.1.77', 24),
    idIpv4Range('10.1.0.0', '10.1.0.255', 6, 80),
    idFqdn('router.example.com'),
    { type: PayloadType.ID, idType: IdType.ID_IPV6_ADDR, protocolId: 0, port: 0, data: fromHex('20010db8000000000000000000000001') },
    { type: PayloadType.ID, idType: IdType.ID_IPV6_ADDR_SUBNET, protocolId: 0, port: 0, data: fromHex('20010db8000000000000000000000000' + 'ffffffffffffffff0000000000000000') },
    { type: PayloadType.HASH, data: fromHex('cc'.repeat(20)) },
    { type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: new Uint8Array(16), notifyType: NotifyType.R_U_THERE, data: fromHex('00000005') },
    { type: PayloadType.D, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_IPSEC_ESP, spiSize: 4, spis: [fromHex('11223344'), fromHex('55667788')] },
    { type: PayloadType.VID, data: VENDOR_ID_NAT_T_RFC3947 },
    { type: PayloadType.NAT_D, data: fromHex('dd'.repeat(20)) },
    { type: PayloadType.NAT_D_DRAFT, data: fromHex('ee'.repeat(16)) },
  ];
  const m = encodeMessage(fields, payloads);
  const d = decodeMessage(m);
  t.equal(d.payloads.length, payloads.length);
  d.payloads.forEach((p, i) => {
    const { body: _b, start: _s, end: _e, ...rest } = p;
    t.same(rest, payloads[i], `payload ${i} type ${p.type}`);
  });
  t.equal(formatId(d.payloads[4] as never), '192.168.1.0/255.255.255.0', 'subnet ID is masked');
  t.equal(formatId(d.payloads[5] as never), '10.1.0.0-10.1.0.255');
  t.equal(formatId(d.payloads[6] as never), 'router.example.com');
  t.equal(formatId(d.payloads[7] as never), '2001:db8:0:0:0:0:0:1');
  t.same(encodeMessage(fields, payloads), m, 'deterministic');
  // start/end cover each payload with its generic header
  const chain = encodePayloadChain(payloads).bytes;
  t.equal(d.payloads[d.payloads.length - 1]!.end, chain.length);
});

t.test('phase-1 SA attributes', async (t) => {
  const sa = buildPhase1Sa([{ priority: 10, encryption: 'aes256', hash: 'sha256', authentication: 'pre-share', group: 14, lifetimeSec: 180 }]);
  const p = parsePhase1Transform(sa.proposals[0]!.transforms[0]!);
  t.same(p, { ok: true, params: { encryption: 'aes256', hash: 'sha256', authentication: 'pre-share', group: 14, lifetimeSec: 180 } });
  t.same(parsePhase1Transform({ transformNumber: 1, transformId: 1, attributes: [tv(1, 7), tv(2, 2), tv(3, 1), tv(4, 2)] }), { ok: false, reason: 'encryption 7/- not supported' }, 'AES without key length refused');
  const def = parsePhase1Transform({ transformNumber: 1, transformId: 1, attributes: [tv(1, 5), tv(2, 1), tv(3, 1), tv(4, 2)] });
  t.match(def, { ok: true, params: { lifetimeSec: 28800 } }, 'RFC 2409 default lifetime');
});

t.test('IPsec DOI attributes incl. UDP-encapsulated modes (RFC 3947 and draft values)', async (t) => {
  for (const [rfc3947, tunnelValue] of [[true, 3], [false, 61443]] as const) {
    const sa = buildQuickModeSa([{ name: 'x', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' }, mode: 'tunnel' }, { name: 'y', esp: { cipher: 'esp-3des', integrity: 'md5' }, ah: { integrity: 'sha' }, mode: 'transport' }],
      { espSpi: fromHex('01020304'), ahSpi: fromHex('05060708'), udpEncap: true, rfc3947, pfsGroup: 14, lifetimeSec: 3600, lifetimeKb: 4608000 });
    const round = decodeMessage(encodeMessage(fields, [sa])).payloads[0] as never;
    const offers = parseQuickModeOffer(round);
    t.equal(offers.length, 2);
    t.match(offers[0]!.params, { mode: 'tunnel', udpEncap: true, encapsulationValue: tunnelValue, pfsGroup: 14, lifetimeSec: 3600, lifetimeKb: 4608000, esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' } });
    t.match(offers[1]!.params, { mode: 'transport', udpEncap: true, encapsulationValue: rfc3947 ? 4 : 61444, esp: { cipher: 'esp-3des', integrity: 'md5' }, ah: { integrity: 'sha' } });
  }
});

t.test('malformed input: typed errors with offsets', async (t) => {
  const good = encodeMessage(fields, [buildPhase1Sa([{ priority: 1, encryption: 'aes128', hash: 'sha', authentication: 'pre-share', group: 2, lifetimeSec: 60 }]), { type: PayloadType.VID, data: VENDOR_ID_DPD }]);
  t.throws(() => decodeMessage(good.subarray(0, 27)), TruncatedError);
  // every truncation is a typed error, never a RangeError
  for (let n = 28; n < good.length; n++) {
    const cut = good.slice(0, n);
    new DataView(cut.buffer).setUint32(24, n);
    try {
      decodeMessage(cut);
      t.fail(`truncated at ${n} decoded`);
    } catch (e) {
      if (!(e instanceof IsakmpDecodeError)) t.fail(`truncated at ${n}: ${String(e)}`);
    }
  }
  t.pass('all truncations rejected with IsakmpDecodeError');
  const badVer = good.slice();
  badVer[17] = 0x20;
  t.throws(() => decodeMessage(badVer), InvalidMajorVersionError);
  const longer = good.slice();
  new DataView(longer.buffer).setUint32(24, good.length + 1);
  t.throws(() => decodeMessage(longer), TruncatedError);
  const shortLen = good.slice();
  new DataView(shortLen.buffer).setUint32(24, 20);
  t.throws(() => decodeMessage(shortLen), BadLengthError);
  // payload length smaller than the generic header
  const p0 = good.slice();
  new DataView(p0.buffer).setUint16(30, 3);
  try {
    decodeMessage(p0);
    t.fail('decoded');
  } catch (e) {
    t.ok(e instanceof BadLengthError);
    t.equal((e as BadLengthError).offset, 30);
  }
  const doi = good.slice();
  doi[35] = 2;
  t.throws(() => decodeMessage(doi), UnsupportedDoiError);
  const sit = good.slice();
  sit[39] = 2;
  t.throws(() => decodeMessage(sit), UnsupportedSituationError);
  // transform count mismatch
  const cnt = good.slice();
  cnt[47] = 2;
  t.throws(() => decodeMessage(cnt), BadProposalSyntaxError);
  // proposal payload at top level
  const top = encodeMessage(fields, []);
  const withProp = new Uint8Array([...top, 0, 0, 0, 8, 1, 1, 0, 0]);
  withProp[16] = PayloadType.PROPOSAL;
  new DataView(withProp.buffer).setUint32(24, withProp.length);
  t.throws(() => decodeMessage(withProp), InvalidPayloadTypeError);
  // trailing garbage after the last payload of a plaintext message
  const trail = new Uint8Array([...good, 0, 0, 0, 0]);
  new DataView(trail.buffer).setUint32(24, trail.length);
  t.throws(() => decodeMessage(trail), BadLengthError);
  // but allowed (padding) when decoding a decrypted body
  t.equal(decodePayloadChain(trail.subarray(28), good[16]!, 28, true).length, 2);
  // ID with wrong data length
  const idMsg = encodeMessage(fields, [{ type: PayloadType.ID, idType: IdType.ID_IPV4_ADDR, protocolId: 0, port: 0, data: fromHex('0a000001ff') }]);
  t.throws(() => decodeMessage(idMsg), BadIdError);
  // too many payloads
  const many = encodeMessage(fields, Array.from({ length: 70 }, () => ({ type: PayloadType.VID, data: fromHex('00') }) as Payload));
  t.throws(() => decodeMessage(many), LimitExceededError);
  // encrypted body is not parsed by decodeMessage
  const enc = good.slice();
  enc[19] = HeaderFlag.ENCRYPTION;
  t.equal(decodeMessage(enc).payloads.length, 0);
  t.equal(decodeMessage(enc).encryptedBody!.length, good.length - 28);
});

t.test('delete and notify length checks', async (t) => {
  const del = encodeMessage(fields, [{ type: PayloadType.D, doi: 1, protocolId: 3, spiSize: 4, spis: [fromHex('01020304')] }]);
  const bad = del.slice();
  bad[32 + 7] = 2; // claims 2 SPIs
  t.throws(() => decodeMessage(bad), BadLengthError);
  const n = encodeMessage(fields, [{ type: PayloadType.N, doi: 1, protocolId: 1, spi: new Uint8Array(16), notifyType: 24578, data: new Uint8Array(0) }]);
  const badN = n.slice();
  badN[32 + 5] = 40; // SPI size beyond payload
  t.throws(() => decodeMessage(badN), BadLengthError);
});

void SIT_IDENTITY_ONLY;
