// Every feature's config section, imported for its registration. Add one line per feature.
import './system.js';
