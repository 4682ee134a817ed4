// Every feature's config section, imported for its registration. Add one line per feature.
import './system.js';
import './logging.js';
import './archive.js';
import './config-mode.js';
import './line.js';
import './users.js';
import './ssh.js';
import './banner.js';
import './crypto-common.js';
import './crypto-ipsec.js';
import './acl.js';
import './crypto-isakmp.js';
import './crypto-call-admission.js';
import './crypto-map.js';
import './interface.js';
import './routing.js';
import './crypto-ikev2.js';
