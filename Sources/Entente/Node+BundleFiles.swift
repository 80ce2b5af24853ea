import EntenteCore
import EntenteStore
import EntenteSync
import EntenteWire
import Foundation

/// A bundle file written by ``Node/exportBundle(to:since:file:)``.
public struct WrittenBundle: Hashable, Sendable {
    /// The envelopes it holds.
    public var envelopes: Int
    /// Its size in bytes.
    public var bytes: Int
}

extension Node {
    /// Writes the bundle for `partner` (as ``exportBundle(to:since:)`` would return it) straight to the file at
    /// `path`, a page of envelopes at a time: memory holds one page, however large the pipeline. The file
    /// appears complete or not at all (an existing file is replaced).
    @discardableResult
    public func exportBundle(
        to partner: CompanyID,
        since summary: Summary? = nil,
        file path: String
    ) throws(EntenteError) -> WrittenBundle {
        try readingOutgoing(to: partner, since: summary) { tx, held in
            let selection = try tx.selectEnvelopes(for: partner, excluding: held)
            guard selection.count <= Bundle.maxEnvelopes else {
                throw EntenteError(
                    .invalidArgument,
                    "\(selection.count) envelopes are due, over a bundle's limit of \(Bundle.maxEnvelopes): sync over the network, or export in steps with summaries"
                )
            }
            let writer: BundleFileWriter
            do {
                writer = try BundleFileWriter(path: path, count: selection.count, revocations: try tx.revocations())
            } catch {
                throw EntenteError(
                    .invalidArgument,
                    "cannot write the bundle to \(path): \(error.localizedDescription)"
                )
            }
            var after: Int64 = 0
            var written = 0
            while written < selection.count {
                let page = try tx.envelopes(
                    for: partner,
                    excluding: held,
                    after: after,
                    through: selection.through,
                    maxCount: 256,
                    maxBytes: 4 << 20
                )
                guard !page.envelopes.isEmpty else { break }
                for envelope in page.envelopes { try writer.append(envelope) }
                written += page.envelopes.count
                after = page.last
            }
            do { return WrittenBundle(envelopes: written, bytes: try writer.finish()) } catch {
                throw EntenteError(
                    .invalidArgument,
                    "cannot write the bundle to \(path): \(error.localizedDescription)"
                )
            }
        }
    }

    /// Describes the envelopes of the bundle file at `path` like ``inspect(_:)``, reading it an envelope at a time
    /// after checking it whole.
    public func inspect(file path: String) throws(EntenteError) -> [EnvelopeInfo] {
        let reader = try Self.openBundle(path)
        return try inspect { () throws(WireError) in try reader.next() }
    }

    /// Opens and checks a bundle file for reading.
    static func openBundle(_ path: String) throws(EntenteError) -> BundleFileReader {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw EntenteError(.notFound, "cannot read bundle file \(path)")
        }
        do { return try BundleFileReader(handle: handle) } catch {
            try? handle.close()
            throw EntenteError(.badInput, error.message, cause: error)
        }
    }

    /// Imports the bundle file at `path` like ``importBundle(_:)``, reading it an envelope at a time: the file is
    /// checked whole (size, format, checksum) before anything is imported, and memory holds one envelope of it
    /// at a time. All or nothing for bad input, as for a bundle in memory: the file is read once to check it, then
    /// again to merge it, and refused if it changed in between.
    @discardableResult
    public func importBundle(
        file path: String,
        progress: (@Sendable (BundleImportProgress) -> Void)? = nil
    ) async throws(EntenteError) -> ImportReport {
        try await importChecked(.file(path: path), progress: progress)
    }
}
