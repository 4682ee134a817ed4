// Every feature's command file, imported for its declarations. Add one line per feature.
import '../../config/sections.js';
import './exec.js';
import './system.js';
import './line.js';
import './crypto-ipsec.js';
import './crypto-ipsec-sa.js';
import './acl.js';
import './crypto-isakmp.js';
import './crypto-map.js';
import './interface.js';
import './routing.js';
import './crypto-ikev2.js';
import './crypto-ikev2-sa.js';
import './crypto-isakmp-sa.js';
import './crypto-session.js';
import './show-system.js';
import './unsupported.js';
