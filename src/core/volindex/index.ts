// Public API of core/volindex (filled in by the area's owner).
export {};
