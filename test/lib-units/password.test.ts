import t from 'tap';
import { decodeType7, encodeType7, hashType9, isType9, verifyType9 } from '../../firmware/lib/password.js';

t.test('type 9 (scrypt) secrets verify and never contain the password', async (t) => {
  const h = hashType9('s3cret!');
  t.ok(isType9(h), h);
  t.notOk(h.includes('s3cret'));
  t.ok(verifyType9('s3cret!', h));
  t.notOk(verifyType9('s3cret', h));
  t.equal(hashType9('s3cret!', h.slice(3, 17)), h, 'same salt, same hash');
  t.notOk(verifyType9('x', '$9$short$bad'));
});

t.test('type 7 round trips with every seed', async (t) => {
  for (let seed = 0; seed < 16; seed++) t.equal(decodeType7(encodeType7('cisco123', seed)), 'cisco123');
  t.equal(encodeType7('cisco', 7).slice(0, 2), '07');
  t.equal(decodeType7('zz'), undefined);
});
