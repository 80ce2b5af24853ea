public import EntenteCore

/// Encodes and decodes operation batches: the plaintext payload of an envelope (see `Specs/envelope.md`).
public enum OperationCodec {
    /// The payload format version written and read.
    public static let version: UInt64 = 1
    /// Most operations in one batch.
    public static let maxOperations = 1_000_000
    /// Longest string value, in UTF-8 bytes.
    public static let maxStringBytes = 1 << 20
    /// Most companies in one field's visibility.
    public static let maxVisibilityCompanies = 64

    enum Tag {
        static let create: UInt8 = 1
        static let addParticipant: UInt8 = 2
        static let set: UInt8 = 3
        static let joint: UInt8 = 0
        static let company: UInt8 = 1
        static let null: UInt8 = 0
        static let string: UInt8 = 1
        static let integer: UInt8 = 2
        static let boolean: UInt8 = 3
        static let `private`: UInt8 = 0
        static let participants: UInt8 = 1
        static let companies: UInt8 = 2
    }

    /// Encodes operations.
    public static func encode(_ operations: [Operation]) -> [UInt8] {
        var writer = ByteWriter(capacity: operations.count * 64)
        writer.writeVarint(version)
        writer.writeVarint(UInt64(operations.count))
        for operation in operations {
            switch operation.kind {
            case .create: writer.write(Tag.create)
            case .addParticipant: writer.write(Tag.addParticipant)
            case .set: writer.write(Tag.set)
            }
            writer.write(operation.object.bytes)
            writer.writeVarint(operation.timestamp.physical)
            writer.writeVarint(UInt64(operation.timestamp.counter))
            writer.write(operation.timestamp.replica.bytes)
            switch operation.kind {
            case .create(let type, let nonce):
                writer.writeString(type)
                writer.write(nonce)
            case .addParticipant(let company):
                writer.write(company.bytes)
            case .set(let key, let value, let visibility):
                switch key.namespace {
                case .joint: writer.write(Tag.joint)
                case .company(let company):
                    writer.write(Tag.company)
                    writer.write(company.bytes)
                }
                writer.writeString(key.name)
                encode(value, into: &writer)
                switch visibility {
                case .private: writer.write(Tag.private)
                case .participants: writer.write(Tag.participants)
                case .companies(let companies):
                    writer.write(Tag.companies)
                    writer.writeVarint(UInt64(companies.count))
                    for company in companies.sorted() { writer.write(company.bytes) }
                }
            }
        }
        return writer.bytes
    }

    static func encode(_ value: Value, into writer: inout ByteWriter) {
        switch value {
        case .null: writer.write(Tag.null)
        case .string(let text):
            writer.write(Tag.string)
            writer.writeString(text)
        case .integer(let number):
            writer.write(Tag.integer)
            writer.writeSignedVarint(number)
        case .boolean(let flag):
            writer.write(Tag.boolean)
            writer.write(flag ? 1 : 0)
        }
    }

    /// Decodes a batch, checking every length and tag; trailing bytes are an error.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> [Operation] {
        var reader = ByteReader(bytes, what: "operation batch")
        let found = try reader.readVarint("version")
        guard found == version else {
            throw WireError(.unsupportedVersion, "operation batch version \(found) is not supported (this build reads \(version))")
        }
        let count = try reader.readCount("operation count", limit: maxOperations)
        var operations = [Operation]()
        operations.reserveCapacity(min(count, reader.remaining / 36))
        for _ in 0..<count {
            let tag = try reader.readByte("operation kind")
            let object = try readID(&reader, "object id", ObjectID.self)
            let physical = try reader.readVarint("timestamp")
            let counter = try reader.readVarint("timestamp counter")
            guard counter <= UInt64(UInt32.max) else { throw reader.malformed("timestamp counter overflows") }
            let replica = try readID(&reader, "timestamp replica", ReplicaID.self)
            let timestamp = Timestamp(physical: physical, counter: UInt32(counter), replica: replica)
            let kind: Operation.Kind
            switch tag {
            case Tag.create:
                let type = try reader.readString("object type", maxBytes: Operation.maxTypeBytes)
                let nonce = try reader.readBytes(Derivation.nonceByteCount, "create nonce")
                kind = .create(type: type, nonce: nonce)
            case Tag.addParticipant:
                kind = .addParticipant(try readID(&reader, "participant", CompanyID.self))
            case Tag.set:
                let namespace: Namespace
                switch try reader.readByte("namespace") {
                case Tag.joint: namespace = .joint
                case Tag.company: namespace = .company(try readID(&reader, "namespace company", CompanyID.self))
                case let other: throw reader.malformed("unknown namespace tag \(other)")
                }
                let name = try reader.readString("field name", maxBytes: FieldKey.maxNameBytes)
                let value = try decodeValue(&reader)
                let visibility: Visibility
                switch try reader.readByte("visibility") {
                case Tag.private: visibility = .private
                case Tag.participants: visibility = .participants
                case Tag.companies:
                    let members = try reader.readCount("visibility size", limit: maxVisibilityCompanies)
                    var companies = Set<CompanyID>()
                    for _ in 0..<members { companies.insert(try readID(&reader, "visibility company", CompanyID.self)) }
                    visibility = .companies(companies)
                case let other: throw reader.malformed("unknown visibility tag \(other)")
                }
                kind = .set(FieldKey(namespace, name), value, visibility)
            default:
                throw reader.malformed("unknown operation kind \(tag)")
            }
            operations.append(Operation(object: object, timestamp: timestamp, kind: kind))
        }
        guard reader.isAtEnd else { throw reader.malformed("\(reader.remaining) unexpected bytes after the last operation") }
        return operations
    }

    static func decodeValue(_ reader: inout ByteReader) throws(WireError) -> Value {
        switch try reader.readByte("value kind") {
        case Tag.null: return .null
        case Tag.string: return .string(try reader.readString("string value", maxBytes: maxStringBytes))
        case Tag.integer: return .integer(try reader.readSignedVarint("integer value"))
        case Tag.boolean:
            switch try reader.readByte("boolean value") {
            case 0: return .boolean(false)
            case 1: return .boolean(true)
            case let other: throw reader.malformed("boolean byte \(other) is neither 0 nor 1")
            }
        case let other: throw reader.malformed("unknown value kind \(other)")
        }
    }

    static func readID<ID: TypedID>(_ reader: inout ByteReader, _ field: String, _: ID.Type) throws(WireError) -> ID {
        let raw = try reader.readBytes(ID128.byteCount, field)
        guard let id = ID(bytes: raw) else { throw reader.malformed("\(field) is not 16 bytes") }
        return id
    }
}
