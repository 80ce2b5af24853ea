public import EntenteCore

/// Encodes and decodes operation batches: the plaintext payload of an envelope (see `Specs/envelope.md`).
public enum OperationCodec {
    /// The payload format version written: 3, the compact layout with field slots and stamped objects
    /// (`OperationCodec+Compact.swift`).
    public static let version: UInt64 = 3
    /// The versions read: 1 (one operation after another, every id and string in full), 2 and 3 (compact).
    public static let readableVersions: ClosedRange<UInt64> = 1...3
    /// Most operations in one batch.
    public static let maxOperations = 1_000_000
    /// Longest string value, in UTF-8 bytes.
    public static let maxStringBytes = Operation.maxStringBytes
    /// Most companies in one field's visibility.
    public static let maxListCount = 64

    enum Tag {
        static let create: UInt8 = 1
        static let addParticipant: UInt8 = 2
        static let set: UInt8 = 3
        static let removeParticipant: UInt8 = 4
        static let archive: UInt8 = 5
        static let addElement: UInt8 = 6
        static let removeElement: UInt8 = 7
        static let explicitWriter: UInt8 = 0x80
        static let joint: UInt8 = 0
        static let company: UInt8 = 1
        static let `private`: UInt8 = 0
        static let participants: UInt8 = 1
        static let companies: UInt8 = 2
    }

    /// Encodes operations in `version` (the current one unless an older reader needs an older one). `origins`
    /// say where objects were created: version 3 names an object whose nonce derives from its creation stamp by
    /// that stamp instead of its id (others, and origins of objects not in the batch, are ignored).
    public static func encode(
        _ operations: [Operation],
        version: UInt64 = OperationCodec.version,
        origins: [ObjectOrigin] = []
    ) -> [UInt8] {
        precondition(readableVersions.contains(version), "operation batch version \(version) is not written")
        guard version == 1 else { return CompactEncoder.encode(operations, version: version, origins: origins) }
        var writer = ByteWriter(capacity: operations.count * 64)
        writer.writeVarint(1)
        writer.writeVarint(UInt64(operations.count))
        for operation in operations { encode(operation, into: &writer) }
        return writer.bytes
    }

    static func encode(_ operation: Operation, into writer: inout ByteWriter) {
        let tag = self.tag(of: operation.kind)
        writer.write(operation.writer == nil ? tag : tag | Tag.explicitWriter)
        writer.write(operation.object.bytes)
        encode(operation.timestamp, into: &writer)
        if let author = operation.writer { writer.write(author.bytes) }
        switch operation.kind {
        case .create(let type, let nonce):
            writer.writeString(type)
            writer.write(nonce)
        case .addParticipant(let company), .removeParticipant(let company):
            writer.write(company.bytes)
        case .archive(let flag):
            writer.write(flag ? 1 : 0)
        case .set(let key, let value, let visibility, let preds):
            encode(key, into: &writer)
            encode(value, into: &writer)
            encode(visibility, into: &writer)
            encode(preds, into: &writer)
        case .addElement(let key, let element, let visibility):
            encode(key, into: &writer)
            writer.writeString(element)
            encode(visibility, into: &writer)
        case .removeElement(let key, let element, let observed, let visibility):
            encode(key, into: &writer)
            writer.writeString(element)
            encode(visibility, into: &writer)
            encode(observed, into: &writer)
        }
    }

    static func tag(of kind: Operation.Kind) -> UInt8 {
        switch kind {
        case .create: Tag.create
        case .addParticipant: Tag.addParticipant
        case .set: Tag.set
        case .removeParticipant: Tag.removeParticipant
        case .archive: Tag.archive
        case .addElement: Tag.addElement
        case .removeElement: Tag.removeElement
        }
    }

    static func encode(_ timestamp: Timestamp, into writer: inout ByteWriter) {
        writer.writeVarint(timestamp.physical)
        writer.writeVarint(UInt64(timestamp.counter))
        writer.write(timestamp.replica.bytes)
    }

    static func encode(_ timestamps: [Timestamp], into writer: inout ByteWriter) {
        writer.writeVarint(UInt64(timestamps.count))
        for timestamp in timestamps { encode(timestamp, into: &writer) }
    }

    static func encode(_ key: FieldKey, into writer: inout ByteWriter) {
        switch key.namespace {
        case .joint: writer.write(Tag.joint)
        case .company(let company):
            writer.write(Tag.company)
            writer.write(company.bytes)
        }
        writer.writeString(key.name)
    }

    static func encode(_ visibility: Visibility, into writer: inout ByteWriter) {
        let (tag, members) = parts(of: visibility)
        writer.write(tag)
        guard let members else { return }
        writer.writeVarint(UInt64(members.count))
        for company in members { writer.write(company.bytes) }
    }

    /// A visibility's tag, and its companies in ascending order if it names them.
    static func parts(of visibility: Visibility) -> (tag: UInt8, members: [CompanyID]?) {
        switch visibility {
        case .private: (Tag.private, nil)
        case .participants: (Tag.participants, nil)
        case .companies(let companies): (Tag.companies, companies.sorted())
        }
    }

    static func encode(_ value: Value, into writer: inout ByteWriter) {
        writer.write(value.kindTag)
        encodeBody(value, into: &writer)
    }

    /// A value without its kind tag.
    static func encodeBody(_ value: Value, into writer: inout ByteWriter) {
        switch value {
        case .null: break
        case .string(let text), .enumeration(let text): writer.writeString(text)
        case .integer(let number), .timestamp(let number): writer.writeSignedVarint(number)
        case .boolean(let flag): writer.write(flag ? 1 : 0)
        case .decimal(let number): encode(number, into: &writer)
        case .money(let money):
            encode(money.amount, into: &writer)
            writer.write(Array(money.currency.code.utf8))
        case .date(let date):
            writer.writeSignedVarint(Int64(date.year))
            writer.write(date.month)
            writer.write(date.day)
        case .reference(let object): writer.write(object.bytes)
        }
    }

    static func encode(_ number: DecimalNumber, into writer: inout ByteWriter) {
        writer.writeSignedVarint(number.significand)
        writer.write(number.scale)
    }

    /// Decodes a batch, checking every length and tag; trailing bytes are an error.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> [Operation] {
        var reader = ByteReader(bytes, what: "operation batch")
        let found = try reader.readVarint("version")
        guard readableVersions.contains(found) else {
            throw WireError(
                .unsupportedVersion,
                "operation batch version \(found) is not supported (this build reads 1 to 3)"
            )
        }
        if found >= 2 {
            var decoder = CompactDecoder(reader, version: found)
            return try decoder.decode()
        }
        let count = try reader.readCount("operation count", limit: maxOperations)
        var operations = [Operation]()
        operations.reserveCapacity(min(count, reader.remaining / 36))
        for _ in 0..<count { operations.append(try decodeOperation(&reader)) }
        guard reader.isAtEnd else {
            throw reader.malformed("\(reader.remaining) unexpected bytes after the last operation")
        }
        return operations
    }

    static func decodeOperation(_ reader: inout ByteReader) throws(WireError) -> Operation {
        let raw = try reader.readByte("operation kind")
        let object = try readID(&reader, "object id", ObjectID.self)
        let timestamp = try decodeTimestamp(&reader)
        let writer = raw & Tag.explicitWriter != 0 ? try readID(&reader, "writer", CompanyID.self) : nil
        let kind: Operation.Kind
        switch raw & ~Tag.explicitWriter {
        case Tag.create:
            let type = try reader.readString("object type", maxBytes: Operation.maxTypeBytes)
            kind = .create(type: type, nonce: try reader.readBytes(Derivation.nonceByteCount, "create nonce"))
        case Tag.addParticipant:
            kind = .addParticipant(try readID(&reader, "participant", CompanyID.self))
        case Tag.removeParticipant:
            kind = .removeParticipant(try readID(&reader, "participant", CompanyID.self))
        case Tag.archive:
            kind = .archive(try decodeBool(&reader, "archive flag"))
        case Tag.set:
            let key = try decodeKey(&reader)
            let value = try decodeValue(&reader)
            let visibility = try decodeVisibility(&reader)
            kind = .set(key, value, visibility, preds: try decodeTimestamps(&reader, "predecessors"))
        case Tag.addElement:
            let key = try decodeKey(&reader)
            let element = try reader.readString("set element", maxBytes: Operation.maxElementBytes)
            kind = .addElement(key, element, try decodeVisibility(&reader))
        case Tag.removeElement:
            let key = try decodeKey(&reader)
            let element = try reader.readString("set element", maxBytes: Operation.maxElementBytes)
            let visibility = try decodeVisibility(&reader)
            kind = .removeElement(key, element, observed: try decodeTimestamps(&reader, "observed adds"), visibility)
        case let other:
            throw reader.malformed("unknown operation kind \(other)")
        }
        return Operation(object: object, timestamp: timestamp, kind: kind, writer: writer)
    }

    static func decodeTimestamp(_ reader: inout ByteReader) throws(WireError) -> Timestamp {
        let physical = try reader.readVarint("timestamp")
        let counter = try reader.readVarint("timestamp counter")
        guard counter <= UInt64(UInt32.max) else { throw reader.malformed("timestamp counter overflows") }
        let replica = try readID(&reader, "timestamp replica", ReplicaID.self)
        return Timestamp(physical: physical, counter: UInt32(counter), replica: replica)
    }

    /// Reads a timestamp list: predecessors or observed adds (at most `Operation.maxTimestampList`), or a
    /// stored list (`limit` up to the number of replicas that ever wrote).
    static func decodeTimestamps(
        _ reader: inout ByteReader,
        _ what: String,
        limit: Int = Operation.maxTimestampList
    ) throws(WireError) -> [Timestamp] {
        let count = try reader.readCount("\(what) count", limit: limit)
        var result: [Timestamp] = []
        for _ in 0..<count { result.append(try decodeTimestamp(&reader)) }
        return result
    }

    static func decodeKey(_ reader: inout ByteReader) throws(WireError) -> FieldKey {
        let namespace: Namespace
        switch try reader.readByte("namespace") {
        case Tag.joint: namespace = .joint
        case Tag.company: namespace = .company(try readID(&reader, "namespace company", CompanyID.self))
        case let other: throw reader.malformed("unknown namespace tag \(other)")
        }
        return FieldKey(namespace, try reader.readString("field name", maxBytes: FieldKey.maxNameBytes))
    }

    static func decodeVisibility(_ reader: inout ByteReader) throws(WireError) -> Visibility {
        try decodeVisibility(&reader) { reader throws(WireError) in
            try readID(&reader, "visibility company", CompanyID.self)
        }
    }

    /// A visibility whose member companies `member` reads (an id in version 1, a table reference in 2).
    static func decodeVisibility(
        _ reader: inout ByteReader,
        member: (inout ByteReader) throws(WireError) -> CompanyID
    ) throws(WireError) -> Visibility {
        switch try reader.readByte("visibility") {
        case Tag.private: return .private
        case Tag.participants: return .participants
        case Tag.companies:
            let members = try reader.readCount("visibility size", limit: maxListCount)
            var companies = Set<CompanyID>()
            for _ in 0..<members { companies.insert(try member(&reader)) }
            return .companies(companies)
        case let other: throw reader.malformed("unknown visibility tag \(other)")
        }
    }

    static func decodeBool(_ reader: inout ByteReader, _ what: String) throws(WireError) -> Bool {
        switch try reader.readByte(what) {
        case 0: return false
        case 1: return true
        case let other: throw reader.malformed("\(what) byte \(other) is neither 0 nor 1")
        }
    }

    static func decodeDecimal(_ reader: inout ByteReader) throws(WireError) -> DecimalNumber {
        let significand = try reader.readSignedVarint("decimal significand")
        let scale = try reader.readByte("decimal scale")
        guard let number = DecimalNumber(significand: significand, scale: scale), number.scale == scale else {
            throw reader.malformed("decimal is not normalised or its scale \(scale) is over \(DecimalNumber.maxScale)")
        }
        return number
    }

    static func decodeValue(_ reader: inout ByteReader) throws(WireError) -> Value {
        try decodeValue(tag: try reader.readByte("value kind"), &reader)
    }

    /// A value of kind `tag`, whose body `reader` holds.
    static func decodeValue(tag: UInt8, _ reader: inout ByteReader) throws(WireError) -> Value {
        switch tag {
        case 0: return .null
        case 1: return .string(try reader.readString("string value", maxBytes: maxStringBytes))
        case 2: return .integer(try reader.readSignedVarint("integer value"))
        case 3: return .boolean(try decodeBool(&reader, "boolean value"))
        case 4: return .decimal(try decodeDecimal(&reader))
        case 5:
            let amount = try decodeDecimal(&reader)
            let code = try reader.readSlice(3, "currency")
            guard code.allSatisfy({ (65...90).contains($0) }),
                let currency = CurrencyCode(String(decoding: code, as: UTF8.self))
            else {
                throw reader.malformed("currency is not three upper-case letters")
            }
            return .money(Money(amount: amount, currency: currency))
        case 6:
            let year = try reader.readSignedVarint("year")
            let month = try reader.readByte("month")
            let day = try reader.readByte("day")
            guard let year32 = Int32(exactly: year), let date = CalendarDate(year: year32, month: month, day: day)
            else {
                throw reader.malformed("\(year)-\(month)-\(day) is not a valid date")
            }
            return .date(date)
        case 7: return .timestamp(try reader.readSignedVarint("timestamp value"))
        case 8: return .enumeration(try reader.readString("enumeration value", maxBytes: Operation.maxElementBytes))
        case 9: return .reference(try readID(&reader, "reference", ObjectID.self))
        case let other: throw reader.malformed("unknown value kind \(other)")
        }
    }

    static func readID<ID: TypedID>(_ reader: inout ByteReader, _ field: String, _: ID.Type) throws(WireError) -> ID {
        let raw = try reader.readSlice(ID128.byteCount, field)
        guard let id = ID(bytes: raw) else { throw reader.malformed("\(field) is not 16 bytes") }
        return id
    }
}
