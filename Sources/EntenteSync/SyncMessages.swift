import EntenteCore
import EntenteCrypto
import EntenteWire

// The byte formats of the network sync protocol (`Specs/sync.md`). Handshake messages travel in the clear
// (they carry only public keys, nonces and signatures); session messages travel inside the secret stream.

/// Why a handshake was refused; carried by a refusal so the other side can say what went wrong.
enum RefusalReason: UInt8, Sendable {
    case unknownCompany = 1
    case authenticationFailed = 2
    case wrongNode = 3
    case unsupportedVersion = 4
    case protocolViolation = 5
    case busy = 6
    case timedOut = 7
    case tooLarge = 8
    case other = 9

    init(code: SyncError.Code) {
        switch code {
        case .unknownCompany: self = .unknownCompany
        case .authenticationFailed: self = .authenticationFailed
        case .unsupportedVersion: self = .unsupportedVersion
        case .protocolViolation: self = .protocolViolation
        case .tooLarge: self = .tooLarge
        case .timedOut: self = .timedOut
        default: self = .other
        }
    }
}

enum HandshakeType: UInt8 {
    case clientHello = 0x01
    case serverHello = 0x02
    case clientFinish = 0x03
    case refusal = 0x04
}

/// The first message: who the client is, whom it means to reach, and its fresh key-exchange key.
struct ClientHello: Equatable {
    var versions: [UInt8]
    var company: CompanyID
    var replicaKey: SigningPublicKey
    var certificate: [UInt8]
    var intendedServer: CompanyID
    var ephemeralKey: KeyExchangePublicKey
    var nonce: [UInt8]

    static let maxVersions = 16

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 256)
        writer.write(Handshake.magic)
        writer.write(HandshakeType.clientHello.rawValue)
        writer.write(UInt8(versions.count))
        writer.write(versions)
        writer.write(company.bytes)
        writer.write(replicaKey.bytes)
        writer.write(certificate)
        writer.write(intendedServer.bytes)
        writer.write(ephemeralKey.bytes)
        writer.write(nonce)
        return writer.bytes
    }

    init(
        versions: [UInt8],
        company: CompanyID,
        replicaKey: SigningPublicKey,
        certificate: [UInt8],
        intendedServer: CompanyID,
        ephemeralKey: KeyExchangePublicKey,
        nonce: [UInt8]
    ) {
        self.versions = versions
        self.company = company
        self.replicaKey = replicaKey
        self.certificate = certificate
        self.intendedServer = intendedServer
        self.ephemeralKey = ephemeralKey
        self.nonce = nonce
    }

    init(decoding bytes: [UInt8]) throws(SyncError) {
        var reader = try Handshake.reader(bytes, .clientHello, "client hello")
        do throws(WireError) {
            let count = Int(try reader.readByte("version count"))
            guard count >= 1, count <= Self.maxVersions else {
                throw reader.malformed("it offers \(count) versions (1 to \(Self.maxVersions) allowed)")
            }
            let versions = try reader.readBytes(count, "versions")
            guard zip(versions, versions.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw reader.malformed("versions are not in ascending order")
            }
            self.versions = versions
            company = try Handshake.readCompany(&reader, "company id")
            replicaKey = try Handshake.readSigningKey(&reader, "replica key")
            certificate = try reader.readBytes(SigningKeyPair.signatureByteCount, "certificate")
            intendedServer = try Handshake.readCompany(&reader, "intended server")
            ephemeralKey = try Handshake.readKXKey(&reader, "ephemeral key")
            nonce = try reader.readBytes(Handshake.nonceByteCount, "nonce")
            guard reader.isAtEnd else { throw reader.malformed("\(reader.remaining) unexpected bytes at the end") }
        } catch {
            throw SyncError(.protocolViolation, error.message)
        }
    }
}

/// The server's answer: its identity, its fresh key-exchange key, the header of its secret stream, and its
/// replica's signature over the transcript so far.
struct ServerHello: Equatable {
    var version: UInt8
    var company: CompanyID
    var replicaKey: SigningPublicKey
    var certificate: [UInt8]
    var ephemeralKey: KeyExchangePublicKey
    var nonce: [UInt8]
    var streamHeader: [UInt8]
    var signature: [UInt8]

    /// The encoding without the trailing signature: what the signature's transcript covers.
    func unsignedEncoding() -> [UInt8] {
        var writer = ByteWriter(capacity: 256)
        writer.write(Handshake.magic)
        writer.write(HandshakeType.serverHello.rawValue)
        writer.write(version)
        writer.write(company.bytes)
        writer.write(replicaKey.bytes)
        writer.write(certificate)
        writer.write(ephemeralKey.bytes)
        writer.write(nonce)
        writer.write(streamHeader)
        return writer.bytes
    }

    func encoded() -> [UInt8] { unsignedEncoding() + signature }

    init(
        version: UInt8,
        company: CompanyID,
        replicaKey: SigningPublicKey,
        certificate: [UInt8],
        ephemeralKey: KeyExchangePublicKey,
        nonce: [UInt8],
        streamHeader: [UInt8],
        signature: [UInt8]
    ) {
        self.version = version
        self.company = company
        self.replicaKey = replicaKey
        self.certificate = certificate
        self.ephemeralKey = ephemeralKey
        self.nonce = nonce
        self.streamHeader = streamHeader
        self.signature = signature
    }

    init(decoding bytes: [UInt8]) throws(SyncError) {
        var reader = try Handshake.reader(bytes, .serverHello, "server hello")
        do throws(WireError) {
            version = try reader.readByte("version")
            company = try Handshake.readCompany(&reader, "company id")
            replicaKey = try Handshake.readSigningKey(&reader, "replica key")
            certificate = try reader.readBytes(SigningKeyPair.signatureByteCount, "certificate")
            ephemeralKey = try Handshake.readKXKey(&reader, "ephemeral key")
            nonce = try reader.readBytes(Handshake.nonceByteCount, "nonce")
            streamHeader = try reader.readBytes(SecretStreamPusher.headerByteCount, "stream header")
            signature = try reader.readBytes(SigningKeyPair.signatureByteCount, "signature")
            guard reader.isAtEnd else { throw reader.malformed("\(reader.remaining) unexpected bytes at the end") }
        } catch {
            throw SyncError(.protocolViolation, error.message)
        }
    }
}

/// The client's last handshake message: the header of its secret stream and its replica's signature over
/// the whole transcript.
struct ClientFinish: Equatable {
    var streamHeader: [UInt8]
    var signature: [UInt8]

    func unsignedEncoding() -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        writer.write(Handshake.magic)
        writer.write(HandshakeType.clientFinish.rawValue)
        writer.write(streamHeader)
        return writer.bytes
    }

    func encoded() -> [UInt8] { unsignedEncoding() + signature }

    init(streamHeader: [UInt8], signature: [UInt8]) {
        self.streamHeader = streamHeader
        self.signature = signature
    }

    init(decoding bytes: [UInt8]) throws(SyncError) {
        var reader = try Handshake.reader(bytes, .clientFinish, "client finish")
        do throws(WireError) {
            streamHeader = try reader.readBytes(SecretStreamPusher.headerByteCount, "stream header")
            signature = try reader.readBytes(SigningKeyPair.signatureByteCount, "signature")
            guard reader.isAtEnd else { throw reader.malformed("\(reader.remaining) unexpected bytes at the end") }
        } catch {
            throw SyncError(.protocolViolation, error.message)
        }
    }
}

/// A handshake refusal, in the clear: a reason and a sentence.
struct Refusal: Equatable {
    var reason: RefusalReason
    var message: String

    static let maxMessageBytes = 512

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + message.utf8.count)
        writer.write(Handshake.magic)
        writer.write(HandshakeType.refusal.rawValue)
        writer.write(reason.rawValue)
        writer.writeString(Handshake.clipped(message, to: Self.maxMessageBytes))
        return writer.bytes
    }

    init(reason: RefusalReason, message: String) {
        self.reason = reason
        self.message = message
    }

    init(decoding bytes: [UInt8]) throws(SyncError) {
        var reader = try Handshake.reader(bytes, .refusal, "refusal")
        do throws(WireError) {
            reason = RefusalReason(rawValue: try reader.readByte("reason")) ?? .other
            message = Handshake.sanitized(try reader.readString("message", maxBytes: Self.maxMessageBytes))
            guard reader.isAtEnd else { throw reader.malformed("\(reader.remaining) unexpected bytes at the end") }
        } catch {
            throw SyncError(.protocolViolation, error.message)
        }
    }
}

/// Constants and helpers of the handshake.
enum Handshake {
    static let magic = Array("ENTS".utf8)
    static let nonceByteCount = 32
    static let transcriptContext = Array("entente/sync/transcript/v1".utf8)
    static let serverSignatureContext = Array("entente/sync/server-signature/v1".utf8)
    static let clientSignatureContext = Array("entente/sync/client-signature/v1".utf8)

    /// The type byte of a handshake frame, or nil if it does not start with the magic.
    static func type(of bytes: [UInt8]) -> HandshakeType? {
        guard bytes.count >= 5, Array(bytes[0..<4]) == magic else { return nil }
        return HandshakeType(rawValue: bytes[4])
    }

    static func reader(_ bytes: [UInt8], _ type: HandshakeType, _ what: String) throws(SyncError) -> ByteReader {
        guard let found = Self.type(of: bytes) else {
            throw SyncError(
                .protocolViolation,
                "expected a \(what) but the frame is not an Entente sync handshake message (bad magic bytes)"
            )
        }
        guard found == type else {
            throw SyncError(.protocolViolation, "expected a \(what), got handshake message type \(found.rawValue)")
        }
        var reader = ByteReader(bytes, what: what)
        do { _ = try reader.readBytes(5, "header") } catch { throw SyncError(.protocolViolation, error.message) }
        return reader
    }

    static func readCompany(_ reader: inout ByteReader, _ field: String) throws(WireError) -> CompanyID {
        let raw = try reader.readBytes(16, field)
        guard let id = CompanyID(bytes: raw) else { throw reader.malformed("\(field) is not 16 bytes") }
        return id
    }

    static func readSigningKey(_ reader: inout ByteReader, _ field: String) throws(WireError) -> SigningPublicKey {
        let raw = try reader.readBytes(SigningPublicKey.byteCount, field)
        do { return try SigningPublicKey(bytes: raw) } catch { throw reader.malformed("\(field): \(error.message)") }
    }

    static func readKXKey(_ reader: inout ByteReader, _ field: String) throws(WireError) -> KeyExchangePublicKey {
        let raw = try reader.readBytes(KeyExchangePublicKey.byteCount, field)
        do { return try KeyExchangePublicKey(bytes: raw) } catch {
            throw reader.malformed("\(field): \(error.message)")
        }
    }

    /// BLAKE2b-256 over the context and each message prefixed with its length.
    static func transcriptHash(_ messages: [[UInt8]]) -> [UInt8] {
        var writer = ByteWriter(capacity: 1024)
        writer.write(transcriptContext)
        for message in messages {
            writer.writeUInt32(UInt32(message.count))
            writer.write(message)
        }
        return BLAKE2b.hash(writer.bytes, outputLength: 32)
    }

    /// Text from the peer, made safe to print: no control characters, at most `limit` bytes.
    static func sanitized(_ text: String) -> String {
        clipped(
            String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f })),
            to: Refusal.maxMessageBytes
        )
    }

    static func clipped(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var result = ""
        for character in text {
            guard result.utf8.count + String(character).utf8.count <= limit - 3 else { break }
            result.append(character)
        }
        return result + "..."
    }
}

enum SessionType: UInt8 {
    case summary = 0x10
    case batch = 0x11
    case ack = 0x12
    case done = 0x13
    case error = 0x14
    case revocations = 0x15
}

/// A message of the established session (inside the secret stream).
enum SessionMessage: Equatable {
    /// What the sender holds: for each origin replica, the contiguous sequence it holds.
    case summary(Summary)
    /// Envelopes for the receiver, numbered from 1; `total` is how many the sender sends in this session.
    case batch(number: UInt64, total: UInt64, envelopes: [[UInt8]])
    /// The receiver imported batch `number` (and committed it).
    case ack(number: UInt64, applied: UInt64, duplicates: UInt64, waiting: UInt64, refused: UInt64)
    /// The sender sends no more batches: it sent `batches` batches holding `envelopes` envelopes.
    case done(batches: UInt64, envelopes: UInt64)
    /// The sender ends the session because of an error.
    case error(code: UInt8, message: String)
    /// Replica revocations the sender holds (its company's and those it learnt), right after its summary.
    case revocations([ReplicaRevocation])

    static let maxErrorBytes = 1024
    /// Most revocations in one message (as in a bundle).
    static let maxRevocations = Bundle.maxRevocations

    func encoded() -> [UInt8] {
        switch self {
        case .summary(let summary):
            var writer = ByteWriter(capacity: 24 + summary.held.count * 26)
            writer.write(SessionType.summary.rawValue)
            writer.write(summary.company.bytes)
            writer.writeVarint(UInt64(summary.held.count))
            for (replica, sequence) in summary.held.sorted(by: { $0.key < $1.key }) {
                writer.write(replica.bytes)
                writer.writeVarint(sequence)
            }
            return writer.bytes
        case .batch(let number, let total, let envelopes):
            var writer = ByteWriter(capacity: 32 + envelopes.reduce(0) { $0 + $1.count + 4 })
            writer.write(SessionType.batch.rawValue)
            writer.writeVarint(number)
            writer.writeVarint(total)
            writer.writeVarint(UInt64(envelopes.count))
            for envelope in envelopes {
                writer.writeUInt32(UInt32(envelope.count))
                writer.write(envelope)
            }
            return writer.bytes
        case .ack(let number, let applied, let duplicates, let waiting, let refused):
            var writer = ByteWriter(capacity: 32)
            writer.write(SessionType.ack.rawValue)
            for value in [number, applied, duplicates, waiting, refused] { writer.writeVarint(value) }
            return writer.bytes
        case .done(let batches, let envelopes):
            var writer = ByteWriter(capacity: 16)
            writer.write(SessionType.done.rawValue)
            writer.writeVarint(batches)
            writer.writeVarint(envelopes)
            return writer.bytes
        case .error(let code, let message):
            var writer = ByteWriter(capacity: 16 + message.utf8.count)
            writer.write(SessionType.error.rawValue)
            writer.write(code)
            writer.writeString(Handshake.clipped(message, to: Self.maxErrorBytes))
            return writer.bytes
        case .revocations(let revocations):
            var writer = ByteWriter(capacity: 4 + revocations.count * ReplicaRevocation.byteCount)
            writer.write(SessionType.revocations.rawValue)
            writer.writeVarint(UInt64(revocations.count))
            for revocation in revocations { writer.write(revocation.encoded()) }
            return writer.bytes
        }
    }

    /// Parses one session message, checking it against `limits` before reading what it announces.
    static func decode(_ bytes: [UInt8], limits: SyncLimits) throws(SyncError) -> SessionMessage {
        guard let first = bytes.first, let type = SessionType(rawValue: first) else {
            throw SyncError(
                .protocolViolation,
                "unknown session message type \(bytes.first.map { String($0) } ?? "(empty)")"
            )
        }
        var reader = ByteReader(bytes, what: "\(type) message")
        do throws(WireError) {
            _ = try reader.readByte("type")
            let message: SessionMessage
            switch type {
            case .summary:
                let company = try Handshake.readCompany(&reader, "company id")
                let count = try reader.readCount("replica count", limit: limits.maxSummaryEntries)
                var held: [ReplicaID: UInt64] = [:]
                var previous: ReplicaID?
                for _ in 0..<count {
                    let raw = try reader.readBytes(16, "replica id")
                    guard let replica = ReplicaID(bytes: raw) else { throw reader.malformed("bad replica id") }
                    if let previous, !(previous < replica) {
                        throw reader.malformed("replicas are not in strictly ascending order")
                    }
                    previous = replica
                    let sequence = try reader.readVarint("sequence")
                    guard sequence <= UInt64(Int64.max) else {
                        throw reader.malformed("sequence \(sequence) is over 2^63-1")
                    }
                    held[replica] = sequence
                }
                message = .summary(Summary(company: company, held: held))
            case .batch:
                let number = try reader.readVarint("batch number")
                let total = try reader.readVarint("total")
                let count = try reader.readCount("envelope count", limit: limits.maxEnvelopesPerBatch)
                guard count >= 1 else { throw reader.malformed("a batch must hold at least one envelope") }
                var envelopes: [[UInt8]] = []
                envelopes.reserveCapacity(count)
                var size = 0
                for index in 0..<count {
                    let length = Int(try reader.readUInt32("length of envelope \(index + 1)"))
                    guard length <= Envelope.maxBytes else {
                        throw WireError(
                            .tooLarge,
                            "envelope \(index + 1) of the batch is \(length) bytes, over the limit of \(Envelope.maxBytes)"
                        )
                    }
                    envelopes.append(try reader.readBytes(length, "envelope \(index + 1)"))
                    size += length
                }
                guard count == 1 || size <= limits.maxBatchBytes else {
                    throw WireError(
                        .tooLarge,
                        "the batch holds \(size) bytes of envelopes, over the limit of \(limits.maxBatchBytes)"
                    )
                }
                message = .batch(number: number, total: total, envelopes: envelopes)
            case .ack:
                var values: [UInt64] = []
                for field in ["batch number", "applied", "duplicates", "waiting", "refused"] {
                    values.append(try reader.readVarint(field))
                }
                message = .ack(
                    number: values[0],
                    applied: values[1],
                    duplicates: values[2],
                    waiting: values[3],
                    refused: values[4]
                )
            case .done:
                message = .done(
                    batches: try reader.readVarint("batch count"),
                    envelopes: try reader.readVarint("envelope count")
                )
            case .error:
                let code = try reader.readByte("error code")
                message = .error(
                    code: code,
                    message: Handshake.sanitized(try reader.readString("message", maxBytes: Self.maxErrorBytes))
                )
            case .revocations:
                let count = try reader.readCount("revocation count", limit: Self.maxRevocations)
                guard count >= 1 else { throw reader.malformed("a revocations message must hold at least one") }
                var revocations: [ReplicaRevocation] = []
                revocations.reserveCapacity(count)
                for _ in 0..<count { revocations.append(try ReplicaRevocation(reading: &reader)) }
                message = .revocations(revocations)
            }
            guard reader.isAtEnd else { throw reader.malformed("\(reader.remaining) unexpected bytes at the end") }
            return message
        } catch {
            throw SyncError(error.code == .tooLarge ? .tooLarge : .protocolViolation, error.message)
        }
    }
}

/// Splits a byte stream into length-prefixed frames (`u32` big-endian length, then the body), refusing a
/// length over the current limit as soon as its four bytes arrive, before buffering the body.
struct FrameDecoder {
    private var buffer: [UInt8] = []
    private var start = 0

    /// Bytes received but not yet returned as frames.
    var buffered: Int { buffer.count - start }

    mutating func append(_ bytes: [UInt8]) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame body, nil if more bytes are needed.
    mutating func next(maxLength: Int) throws(SyncError) -> [UInt8]? {
        guard buffer.count - start >= 4 else { return nil }
        let length =
            Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8
            | Int(buffer[start + 3])
        guard length <= maxLength else {
            throw SyncError(.tooLarge, "the peer announced a frame of \(length) bytes, over the limit of \(maxLength)")
        }
        guard buffer.count - start - 4 >= length else { return nil }
        let body = Array(buffer[(start + 4)..<(start + 4 + length)])
        start += 4 + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.count <= 1 << 20)
            start = 0
        }
        return body
    }

    /// Prefixes `body` with its length.
    static func frame(_ body: [UInt8]) -> [UInt8] {
        var framed = [UInt8]()
        framed.reserveCapacity(body.count + 4)
        let length = UInt32(body.count)
        framed.append(contentsOf: [
            UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff),
        ])
        framed.append(contentsOf: body)
        return framed
    }
}
