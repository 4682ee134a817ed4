// The configuration a new box boots with when its flash holds no startup-config.
// (A module rather than a text file so the single-file bundle carries it.)
export const DEFAULT_CONFIG = `!
hostname Router
!
no ip domain lookup
!
end
`;
