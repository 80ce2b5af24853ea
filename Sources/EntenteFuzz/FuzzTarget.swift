/// The fuzz targets: one entry point per parser or decoder that takes bytes from outside (`Fuzz/README.md`).
///
/// Every entry point takes any bytes and must return without crashing, trapping or hanging: rejecting the
/// input is fine. It returns `true` when the input was accepted as far as the target goes (a valid envelope
/// opened, a bundle decoded, a handshake message decoded, ...), so the corpus replay can check that the valid
/// seeds really reach the parser.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Envelope parsing, signature verification and opening with the fixed recipient identity.
    case envelope
    /// Bundle files, and every envelope they hold.
    case bundle
    /// Operation batches (the envelope's plaintext).
    case operations
    /// Partner cards (JSON), verified and as stored.
    case partnerCard = "partner-card"
    /// Summary files (JSON).
    case summary
    /// The handshake: bytes from the peer fed to a client or server `SyncSession` (frames, hellos, finish,
    /// refusals).
    case handshake
    /// The established session: messages from an authenticated peer (summary, batch, ack, done, error),
    /// encrypted with the real session keys and fed to a server `SyncSession`.
    case syncSession = "sync-session"
    /// CSV import: the reader, then conversion with both built-in mappings.
    case csvImport = "csv-import"
    /// Mapping files (JSON), checked against the catalog, then used to convert a small CSV file.
    case csvMapping = "csv-mapping"

    /// Runs the target on `bytes`.
    /// - Returns: whether the input was accepted (see the type's documentation).
    public func run(_ bytes: [UInt8]) -> Bool {
        switch self {
        case .envelope: Fuzz.envelope(bytes)
        case .bundle: Fuzz.bundle(bytes)
        case .operations: Fuzz.operations(bytes)
        case .partnerCard: Fuzz.partnerCard(bytes)
        case .summary: Fuzz.summary(bytes)
        case .handshake: Fuzz.handshake(bytes)
        case .syncSession: Fuzz.syncSession(bytes)
        case .csvImport: Fuzz.csvImport(bytes)
        case .csvMapping: Fuzz.csvMapping(bytes)
        }
    }
}

/// The entry points, one per ``FuzzTarget``; each is what the libFuzzer executable of the same name calls.
public enum Fuzz {
    /// Runs the target named `name` (a ``FuzzTarget`` raw value) on the `size` bytes at `data`: the body of
    /// an `LLVMFuzzerTestOneInput`.
    /// - Returns: 0, as libFuzzer expects.
    public static func testOneInput(_ name: String, _ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
        guard let target = FuzzTarget(rawValue: name) else { preconditionFailure("no fuzz target named \(name)") }
        _ = target.run(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
}
