import EntenteCrypto
public import EntenteWire
public import Foundation

/// Reads a bundle file front to back, one envelope at a time, never holding the whole file (format:
/// `Specs/envelope.md`, "Bundles").
///
/// Opening reads the file once to check its size, magic, version and checksum, holding a buffer only, so a
/// truncated or corrupted file is refused before any envelope is looked at, as with ``Bundle/init(decoding:)``.
/// ``next()`` then reads it again, envelope by envelope, and checks the checksum a second time at the end: a file
/// changed in between is refused there (an importer applying envelopes inside one transaction rolls back).
public final class BundleFileReader {
    /// Replica revocations carried in the extension area.
    public private(set) var revocations: [ReplicaRevocation] = []
    /// The number of envelopes the bundle holds.
    public private(set) var count = 0
    /// The file's checksum (BLAKE2b-256 of everything before it), checked when it was opened: two readers with
    /// one checksum read the same bundle.
    public private(set) var checksum: [UInt8] = []
    private let handle: FileHandle
    private let size: Int
    private var buffer: [UInt8] = []
    private var position = 0
    /// Bytes of the file handed out so far (header and envelopes, not the checksum).
    private var consumed = 0
    private var index = 0
    private var finished = false
    private let hasher = BLAKE2b.Hasher(outputLength: 32)
    static let chunkBytes = 1 << 20

    deinit { try? handle.close() }

    /// Checks the file behind `handle` (positioned anywhere; read from its start) and reads its head. The reader
    /// owns the handle from then on and closes it when it goes.
    public init(handle: FileHandle) throws(WireError) {
        self.handle = handle
        size = try Self.size(of: handle)
        try Self.seek(handle, to: 0)
        try Bundle.checkStart(try Self.read(handle, upTo: 5)[...], size: size)
        // First pass: the checksum, a chunk at a time.
        try Self.seek(handle, to: 0)
        let check = BLAKE2b.Hasher(outputLength: 32)
        var left = size - 32
        while left > 0 {
            let chunk = try Self.read(handle, upTo: min(left, Self.chunkBytes))
            guard !chunk.isEmpty else { throw WireError(.truncated, "bundle file ended early while it was read") }
            check.update(chunk)
            left -= chunk.count
        }
        checksum = try Self.read(handle, upTo: 32)
        guard check.finalize() == checksum else { throw Bundle.checksumMismatch }
        // Second pass: the head, then envelopes on demand.
        try Self.seek(handle, to: 0)
        (revocations, count) = try Bundle.readHead { count, what throws(WireError) in try self.take(count, what) }
    }

    /// The next envelope, or nil after the last one, when the end of the file and its checksum are checked again.
    public func next() throws(WireError) -> [UInt8]? {
        guard !finished else { return nil }
        guard index < count else {
            finished = true
            guard consumed == size - 32 else {
                throw WireError(.malformed, "bundle: \(size - 32 - consumed) unexpected bytes after the last envelope")
            }
            var checksum = Array(buffer[position...])
            if checksum.count < 32 { checksum += try Self.read(handle, upTo: 32 - checksum.count) }
            guard hasher.finalize() == checksum else {
                throw WireError(.malformed, "the bundle file changed while it was being imported")
            }
            return nil
        }
        let envelope = try Bundle.readEnvelope(index) { count, what throws(WireError) in
            try self.take(count, what)
        }
        index += 1
        return envelope
    }

    /// Hands out the next `count` bytes of the file (before its checksum), hashing them.
    private func take(_ count: Int, _ what: String) throws(WireError) -> [UInt8] {
        guard count <= size - 32 - consumed else {
            throw WireError(.truncated, "bundle is truncated: \(what) is missing")
        }
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if position == buffer.count {
                buffer = try Self.read(handle, upTo: Self.chunkBytes)
                position = 0
                guard !buffer.isEmpty else { throw WireError(.truncated, "bundle file ended early while it was read") }
            }
            let step = min(count - result.count, buffer.count - position)
            result += buffer[position..<(position + step)]
            position += step
        }
        consumed += count
        hasher.update(result)
        return result
    }

    private static func size(of handle: FileHandle) throws(WireError) -> Int {
        do { return Int(try handle.seekToEnd()) } catch {
            throw WireError(.truncated, "cannot read the bundle file: \(error.localizedDescription)")
        }
    }

    private static func seek(_ handle: FileHandle, to offset: UInt64) throws(WireError) {
        do { try handle.seek(toOffset: offset) } catch {
            throw WireError(.truncated, "cannot read the bundle file: \(error.localizedDescription)")
        }
    }

    private static func read(_ handle: FileHandle, upTo count: Int) throws(WireError) -> [UInt8] {
        do { return [UInt8](try handle.read(upToCount: count) ?? Data()) } catch {
            throw WireError(.truncated, "cannot read the bundle file: \(error.localizedDescription)")
        }
    }
}

/// Writes a bundle file envelope by envelope (the count is known up front), hashing as it goes; the file
/// appears at its path, complete, only when ``finish()`` succeeds (written beside it, flushed, then renamed).
public final class BundleFileWriter {
    private let path: String
    private let partial: String
    private let handle: FileHandle
    private let hasher = BLAKE2b.Hasher(outputLength: 32)
    private let count: Int
    private var written = 0
    private var pending: [UInt8] = []
    private var done = false
    /// Bytes written so far (the whole file's size once finished).
    public private(set) var bytes = 0

    /// Starts the file for `count` envelopes and these revocations (beyond ``Bundle/maxRevocations``, the
    /// first ones are kept).
    public init(path: String, count: Int, revocations: [ReplicaRevocation]) throws {
        guard count <= Bundle.maxEnvelopes else {
            throw BundleWriteError("a bundle holds at most \(Bundle.maxEnvelopes) envelopes, not \(count)")
        }
        self.path = path
        self.count = count
        partial = path + ".partial-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: partial, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: partial])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partial))
        try write(Bundle.head(revocations: Array(revocations.prefix(Bundle.maxRevocations)), count: count))
    }

    deinit {
        if !done {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
        }
    }

    /// Appends the next envelope.
    public func append(_ envelope: [UInt8]) throws {
        guard written < count else { throw BundleWriteError("more envelopes than the bundle's count of \(count)") }
        written += 1
        try write(Bundle.frame(envelope))
    }

    /// Writes the checksum, flushes the file to disk and moves it to its path. Returns its size.
    @discardableResult
    public func finish() throws -> Int {
        guard written == count else {
            throw BundleWriteError("the bundle's count says \(count) envelopes, but \(written) were written")
        }
        let checksum = hasher.finalize()
        pending += checksum
        bytes += checksum.count
        try flush()
        try handle.synchronize()
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: partial, toPath: path)
        done = true
        return bytes
    }

    private func write(_ piece: [UInt8]) throws {
        hasher.update(piece)
        pending += piece
        bytes += piece.count
        if pending.count >= BundleFileReader.chunkBytes { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
    }
}

/// A bundle file written inconsistently with its own head (a caller's mistake; the file is not kept).
public struct BundleWriteError: LocalizedError {
    public let message: String
    init(_ message: String) { self.message = message }
    public var errorDescription: String? { message }
}
