import t from 'tap';
import {
  decodeMessage, encodeMessage, decodePayloadChain, encodePayloadChain, ExchangeType, PayloadType, NotifyType,
  TransformType, EncrId, ProtocolId, TsType, Ikev2DecodeError, TruncatedError, BadLengthError,
  UnsupportedCriticalPayloadError, InvalidMajorVersionError, InvalidSyntaxError, notifyName,
  type AnyPayload, type IkeHeader,
} from '../../firmware/proto/ikev2/index.js';

const header: IkeHeader = {
  spiI: 0x0102030405060708n, spiR: 0xfffffffffffffff0n, exchangeType: ExchangeType.IKE_SA_INIT,
  initiator: true, response: false, messageId: 0xfffffffe,
};

const payloads: AnyPayload[] = [
  {
    type: PayloadType.SA,
    proposals: [
      {
        num: 1, protocolId: ProtocolId.IKE, spi: new Uint8Array(0),
        transforms: [
          { type: TransformType.ENCR, id: EncrId.ENCR_AES_CBC, keyLength: 256 },
          { type: TransformType.PRF, id: 5 },
          { type: TransformType.INTEG, id: 12 },
          { type: TransformType.DH, id: 14 },
        ],
      },
      {
        num: 2, protocolId: ProtocolId.ESP, spi: Uint8Array.of(1, 2, 3, 4),
        transforms: [{ type: TransformType.ENCR, id: 20, keyLength: 128, otherAttributes: [{ type: 99, value: Uint8Array.of(9) }] }],
      },
    ],
  },
  { type: PayloadType.KE, dhGroup: 14, data: new Uint8Array(256).fill(7) },
  { type: PayloadType.NONCE, data: new Uint8Array(32).fill(1) },
  { type: PayloadType.NOTIFY, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.NAT_DETECTION_SOURCE_IP, data: new Uint8Array(20) },
  { type: PayloadType.NOTIFY, protocolId: ProtocolId.ESP, spi: Uint8Array.of(9, 9, 9, 9), notifyType: NotifyType.REKEY_SA, data: new Uint8Array(0) },
  { type: PayloadType.IDi, idType: 1, data: Uint8Array.of(10, 0, 0, 1) },
  { type: PayloadType.AUTH, method: 2, data: new Uint8Array(32).fill(3) },
  { type: PayloadType.DELETE, protocolId: ProtocolId.ESP, spiSize: 4, spis: [Uint8Array.of(1, 1, 1, 1), Uint8Array.of(2, 2, 2, 2)] },
  { type: PayloadType.VENDOR_ID, data: Uint8Array.of(0xaa) },
  {
    type: PayloadType.TSi,
    selectors: [
      { tsType: TsType.TS_IPV4_ADDR_RANGE, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: Uint8Array.of(10, 0, 0, 0), endAddress: Uint8Array.of(10, 0, 0, 255) },
      { tsType: TsType.TS_IPV6_ADDR_RANGE, ipProtocol: 6, startPort: 80, endPort: 80, startAddress: new Uint8Array(16), endAddress: new Uint8Array(16).fill(0xff) },
    ],
  },
  { type: PayloadType.SK, firstInner: PayloadType.IDi, body: new Uint8Array(40).fill(5) },
];

t.test('round trip of every payload kind', async (t) => {
  const bytes = encodeMessage(header, payloads);
  const m = decodeMessage(bytes);
  t.equal(m.header.spiI, header.spiI);
  t.equal(m.header.spiR, header.spiR);
  t.equal(m.header.messageId, 0xfffffffe);
  t.equal(m.header.initiator, true);
  t.equal(m.header.response, false);
  t.equal(m.header.majorVersion, 2);
  t.equal(m.header.length, bytes.length);
  t.same(m.payloads, payloads);
  t.same(encodeMessage(m.header, m.payloads), bytes, 're-encodes byte-identically');
});

t.test('header bytes follow the RFC layout', async (t) => {
  const bytes = encodeMessage({ ...header, response: true, initiator: false }, [{ type: PayloadType.NONCE, data: new Uint8Array(16) }]);
  t.equal(bytes[16], PayloadType.NONCE);
  t.equal(bytes[17], 0x20);
  t.equal(bytes[18], 34);
  t.equal(bytes[19], 0x20, 'R flag only');
  t.equal(bytes.length, 28 + 4 + 16);
  t.same([...bytes.subarray(24, 28)], [0, 0, 0, 48]);
});

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

t.test('malformed inputs raise typed errors with offsets', async (t) => {
  const good = encodeMessage(header, payloads);
  let e = errorOf(() => decodeMessage(good.subarray(0, 27)));
  t.ok(e instanceof TruncatedError, 'short header');
  const v1 = new Uint8Array(good); v1[17] = 0x10;
  e = errorOf(() => decodeMessage(v1));
  t.ok(e instanceof InvalidMajorVersionError, 'major version 1');
  e = errorOf(() => decodeMessage(good.subarray(0, good.length - 1)));
  t.ok(e instanceof BadLengthError, 'length mismatch');
  const badLen = new Uint8Array(good); badLen[30] = 0; badLen[31] = 2; // SA payload length 2
  e = errorOf(() => decodeMessage(badLen));
  t.ok(e instanceof BadLengthError && e.offset === 28, 'payload length < 4 at offset 28');
  const over = new Uint8Array(good); over[30] = 0xff;
  e = errorOf(() => decodeMessage(over));
  t.ok(e instanceof TruncatedError, 'payload length beyond the message');
  const badProp = new Uint8Array(good); badProp[32] = 5; // Last Substruc of first proposal
  e = errorOf(() => decodeMessage(badProp));
  t.ok(e instanceof InvalidSyntaxError && e.offset === 32, 'bad Last Substruc');
});

t.test('critical bit handling', async (t) => {
  const unknownCritical = Uint8Array.of(0, 0x80, 0, 6, 1, 2);
  const e = errorOf(() => decodePayloadChain(unknownCritical, 200));
  t.ok(e instanceof UnsupportedCriticalPayloadError && e.payloadType === 200 && e.offset === 0);
  const nonCritical = decodePayloadChain(Uint8Array.of(0, 0, 0, 6, 1, 2), 200);
  t.equal(nonCritical.length, 1);
  t.same((nonCritical[0] as { raw: Uint8Array }).raw, Uint8Array.of(1, 2));
  const known = decodePayloadChain(encodePayloadChain([{ type: PayloadType.NONCE, data: new Uint8Array(16), critical: true }]).bytes, PayloadType.NONCE);
  t.equal(known[0]!.critical, true, 'known payload with C bit accepted');
  t.equal(notifyName(14), 'NO_PROPOSAL_CHOSEN');
  t.equal(notifyName(16390), 'COOKIE');
});

t.test('bounded fuzz of the decoder: only Ikev2DecodeError escapes', async (t) => {
  const good = encodeMessage(header, payloads);
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let decoded = 0;
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const m = new Uint8Array(good);
    const flips = 1 + rnd(4);
    for (let j = 0; j < flips; j++) m[rnd(m.length)] = rnd(256);
    const cut = rnd(5) === 0 ? m.subarray(0, rnd(m.length)) : m;
    try {
      decodeMessage(cut);
      decoded++;
    } catch (e) {
      if (!(e instanceof Ikev2DecodeError)) {
        t.fail(`non-typed error: ${String(e)}`);
        return;
      }
      rejected++;
    }
  }
  t.ok(decoded > 0 && rejected > 0, `decoded ${decoded}, rejected ${rejected}`);
});
