package import EntenteCore

/// Compact byte forms of core values for storage columns. Timestamps sort bytewise in clock order.
package enum StorageCoding {
    /// 8-byte big-endian physical time, 4-byte counter, 16-byte replica id: memcmp order is clock order.
    package static func encode(_ timestamp: Timestamp) -> [UInt8] {
        var writer = ByteWriter(capacity: 28)
        writer.writeUInt64(timestamp.physical)
        writer.writeUInt32(timestamp.counter)
        writer.write(timestamp.replica.bytes)
        return writer.bytes
    }

    package static func decodeTimestamp(_ bytes: [UInt8]) throws(WireError) -> Timestamp {
        var reader = ByteReader(bytes, what: "stored timestamp")
        let physical = try reader.readUInt64("physical")
        let counter = try reader.readUInt32("counter")
        let replica = try OperationCodec.readID(&reader, "replica", ReplicaID.self)
        guard reader.isAtEnd else { throw reader.malformed("trailing bytes") }
        return Timestamp(physical: physical, counter: counter, replica: replica)
    }

    package static func encode(_ value: Value) -> [UInt8] {
        var writer = ByteWriter()
        OperationCodec.encode(value, into: &writer)
        return writer.bytes
    }

    package static func decodeValue(_ bytes: [UInt8]) throws(WireError) -> Value {
        var reader = ByteReader(bytes, what: "stored value")
        let value = try OperationCodec.decodeValue(&reader)
        guard reader.isAtEnd else { throw reader.malformed("trailing bytes") }
        return value
    }

    package static func encode(_ visibility: Visibility) -> [UInt8] {
        switch visibility {
        case .private: [OperationCodec.Tag.private]
        case .participants: [OperationCodec.Tag.participants]
        case .companies(let companies): [OperationCodec.Tag.companies] + companies.sorted().flatMap(\.bytes)
        }
    }

    package static func decodeVisibility(_ bytes: [UInt8]) throws(WireError) -> Visibility {
        guard let tag = bytes.first else { throw WireError(.truncated, "stored visibility is empty") }
        switch tag {
        case OperationCodec.Tag.private: return .private
        case OperationCodec.Tag.participants: return .participants
        case OperationCodec.Tag.companies:
            guard (bytes.count - 1) % 16 == 0 else {
                throw WireError(.malformed, "stored visibility has a partial company id")
            }
            var companies = Set<CompanyID>()
            for index in stride(from: 1, to: bytes.count, by: 16) {
                if let company = CompanyID(bytes: bytes[index..<index + 16]) { companies.insert(company) }
            }
            return .companies(companies)
        default: throw WireError(.malformed, "stored visibility tag \(tag) is unknown")
        }
    }

    /// Empty for the joint namespace, the 16 company-id bytes otherwise.
    package static func encode(_ namespace: Namespace) -> [UInt8] {
        switch namespace {
        case .joint: []
        case .company(let company): company.bytes
        }
    }

    package static func decodeNamespace(_ bytes: [UInt8]) throws(WireError) -> Namespace {
        if bytes.isEmpty { return .joint }
        guard let company = CompanyID(bytes: bytes) else {
            throw WireError(.malformed, "stored namespace is not 16 bytes")
        }
        return .company(company)
    }

    /// Stored lists grow with the number of replicas that ever wrote a field: bounded, but not by the wire limit.
    static let storedListLimit = 1 << 20

    /// The parts of a field state that do not fit the winner's columns: the winner's predecessors, the other
    /// heads (conflicts), and the superseded-up-to marks. Empty when there is nothing but a plain winner.
    package static func encodeExtra(_ field: FieldState) -> [UInt8] {
        if field.heads.count == 1, field.winner.preds.isEmpty, field.superseded.isEmpty { return [] }
        var writer = ByteWriter()
        writer.write(1)
        OperationCodec.encode(field.winner.preds, into: &writer)
        writer.writeVarint(UInt64(field.heads.count - 1))
        for head in field.conflicts {
            OperationCodec.encode(head.value, into: &writer)
            OperationCodec.encode(head.timestamp, into: &writer)
            OperationCodec.encode(head.visibility, into: &writer)
            writer.write(head.writer.bytes)
            OperationCodec.encode(head.preds, into: &writer)
        }
        OperationCodec.encode(field.superseded.sorted(), into: &writer)
        return writer.bytes
    }

    /// Rebuilds a field state from its winner and `encodeExtra`'s bytes.
    package static func decodeField(winner: Register, extra: [UInt8]) throws(WireError) -> FieldState {
        guard !extra.isEmpty else { return FieldState(winner) }
        var reader = ByteReader(extra, what: "stored field state")
        guard try reader.readByte("version") == 1 else { throw reader.malformed("unknown field state version") }
        var first = winner
        first.preds = try OperationCodec.decodeTimestamps(&reader, "predecessors", limit: storedListLimit)
        var heads = [first]
        let count = try reader.readCount("conflict count", limit: storedListLimit)
        for _ in 0..<count {
            let value = try OperationCodec.decodeValue(&reader)
            let timestamp = try OperationCodec.decodeTimestamp(&reader)
            let visibility = try OperationCodec.decodeVisibility(&reader)
            let writer = try OperationCodec.readID(&reader, "writer", CompanyID.self)
            let preds = try OperationCodec.decodeTimestamps(&reader, "predecessors", limit: storedListLimit)
            heads.append(
                Register(value: value, timestamp: timestamp, visibility: visibility, writer: writer, preds: preds)
            )
        }
        let superseded = try OperationCodec.decodeTimestamps(&reader, "superseded", limit: storedListLimit)
        guard reader.isAtEnd else { throw reader.malformed("trailing bytes") }
        return FieldState(heads: heads, superseded: superseded)
    }

    /// A set element's adds (with writers) and observed removes.
    package static func encode(_ element: ElementState) -> [UInt8] {
        var writer = ByteWriter()
        let adds = element.adds.values.sorted { $0.timestamp < $1.timestamp }
        writer.writeVarint(UInt64(adds.count))
        for mark in adds {
            OperationCodec.encode(mark.timestamp, into: &writer)
            writer.write(mark.writer.bytes)
        }
        OperationCodec.encode(element.removes.values.sorted(), into: &writer)
        return writer.bytes
    }

    package static func decodeElement(_ bytes: [UInt8]) throws(WireError) -> ElementState {
        var reader = ByteReader(bytes, what: "stored set element")
        var element = ElementState()
        let count = try reader.readCount("add count", limit: storedListLimit)
        for _ in 0..<count {
            let timestamp = try OperationCodec.decodeTimestamp(&reader)
            let writer = try OperationCodec.readID(&reader, "writer", CompanyID.self)
            element.adds[timestamp.replica] = ElementMark(timestamp: timestamp, writer: writer)
        }
        for stamp in try OperationCodec.decodeTimestamps(&reader, "removes", limit: storedListLimit) {
            element.removes[stamp.replica] = stamp
        }
        guard reader.isAtEnd else { throw reader.malformed("trailing bytes") }
        return element
    }
}
