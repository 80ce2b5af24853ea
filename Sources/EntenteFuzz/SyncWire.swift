import EntenteCore
import EntenteCrypto
import EntenteWire

/// The sync protocol's messages written by hand from `Specs/sync.md`, so the harness can speak as a peer
/// through `SyncSession`'s public interface (the protocol's own encoders are internal to EntenteSync).
enum SyncWire {
    static let magic = Array("ENTS".utf8)
    static let transcriptContext = Array("entente/sync/transcript/v1".utf8)
    static let serverSignatureContext = Array("entente/sync/server-signature/v1".utf8)
    static let clientSignatureContext = Array("entente/sync/client-signature/v1".utf8)

    /// A `u32` length, then the body.
    static func frame(_ body: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(capacity: body.count + 4)
        writer.writeUInt32(UInt32(truncatingIfNeeded: body.count))
        writer.write(body)
        return writer.bytes
    }

    static func clientHello(
        from client: FuzzIdentity,
        to server: CompanyID,
        ephemeral: KeyExchangePublicKey,
        nonce: [UInt8],
        versions: [UInt8] = [1]
    ) -> [UInt8] {
        var writer = ByteWriter(capacity: 256)
        writer.write(magic)
        writer.write(0x01)
        writer.write(UInt8(truncatingIfNeeded: versions.count))
        writer.write(versions)
        writer.write(client.company.bytes)
        writer.write(client.replicaKey.publicKey.bytes)
        writer.write(client.credentials.certificate.signature)
        writer.write(server.bytes)
        writer.write(ephemeral.bytes)
        writer.write(nonce)
        return writer.bytes
    }

    /// A server hello from `server`, signed over the transcript that starts with `clientHello`.
    static func serverHello(
        from server: FuzzIdentity,
        answering clientHello: [UInt8],
        ephemeral: KeyExchangePublicKey,
        nonce: [UInt8],
        streamHeader: [UInt8]
    ) -> [UInt8] {
        var writer = ByteWriter(capacity: 256)
        writer.write(magic)
        writer.write(0x02)
        writer.write(1)
        writer.write(server.company.bytes)
        writer.write(server.replicaKey.publicKey.bytes)
        writer.write(server.credentials.certificate.signature)
        writer.write(ephemeral.bytes)
        writer.write(nonce)
        writer.write(streamHeader)
        let unsigned = writer.bytes
        let transcript = transcriptHash([clientHello, unsigned])
        return unsigned + server.replicaKey.signature(for: serverSignatureContext + transcript)
    }

    static func clientFinishUnsigned(streamHeader: [UInt8]) -> [UInt8] { magic + [0x03] + streamHeader }

    static func refusal(reason: UInt8, message: String) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(magic)
        writer.write(0x04)
        writer.write(reason)
        writer.writeString(message)
        return writer.bytes
    }

    static func transcriptHash(_ messages: [[UInt8]]) -> [UInt8] {
        var writer = ByteWriter(capacity: 1024)
        writer.write(transcriptContext)
        for message in messages {
            writer.writeUInt32(UInt32(truncatingIfNeeded: message.count))
            writer.write(message)
        }
        return BLAKE2b.hash(writer.bytes, outputLength: 32)
    }

    /// Where a server hello's fields start (magic, type, version, company, replica key, certificate).
    static let serverHelloEphemeralOffset = 5 + 1 + 16 + 32 + 64
    static let serverHelloHeaderOffset = serverHelloEphemeralOffset + 32 + 32
    static let serverHelloLength = serverHelloHeaderOffset + 24 + 64

    // Session messages (plaintext, before the secret stream).

    static func summary(company: CompanyID, held: [(ReplicaID, UInt64)]) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(0x10)
        writer.write(company.bytes)
        writer.writeVarint(UInt64(held.count))
        for (replica, sequence) in held.sorted(by: { $0.0 < $1.0 }) {
            writer.write(replica.bytes)
            writer.writeVarint(sequence)
        }
        return writer.bytes
    }

    static func batch(number: UInt64, total: UInt64, envelopes: [[UInt8]]) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(0x11)
        writer.writeVarint(number)
        writer.writeVarint(total)
        writer.writeVarint(UInt64(envelopes.count))
        for envelope in envelopes {
            writer.writeUInt32(UInt32(truncatingIfNeeded: envelope.count))
            writer.write(envelope)
        }
        return writer.bytes
    }

    static func ack(number: UInt64, applied: UInt64 = 0, duplicates: UInt64 = 0) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(0x12)
        for value in [number, applied, duplicates, 0, 0] { writer.writeVarint(value) }
        return writer.bytes
    }

    static func done(batches: UInt64, envelopes: UInt64) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(0x13)
        writer.writeVarint(batches)
        writer.writeVarint(envelopes)
        return writer.bytes
    }

    static func error(code: UInt8, message: String) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(0x14)
        writer.write(code)
        writer.writeString(message)
        return writer.bytes
    }

    static func revocations(_ statements: [ReplicaRevocation]) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(0x15)
        writer.writeVarint(UInt64(statements.count))
        for statement in statements { writer.write(statement.encoded()) }
        return writer.bytes
    }
}
