/** Alias names, the same in both Regions so applications change no code when they move. */
export function labAliases(prefix: string) {
  return {
    singleRegion: `alias/${prefix}/single-region`,
    multiRegion: `alias/${prefix}/multi-region`,
    importedMaterial: `alias/${prefix}/imported-material`,
    multiRegionImported: `alias/${prefix}/multi-region-imported`,
    cloudHsm: `alias/${prefix}/cloudhsm`,
  } as const;
}
