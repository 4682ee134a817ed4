// Loads the compiled addon. Callers treat a load failure as "not available" and fall back
// to the pure node:crypto / raw-socket paths, so a box without a build still runs.
'use strict';
module.exports = require('./build/Release/rampart_native.node');
