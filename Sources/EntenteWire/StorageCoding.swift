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
            guard (bytes.count - 1) % 16 == 0 else { throw WireError(.malformed, "stored visibility has a partial company id") }
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
        guard let company = CompanyID(bytes: bytes) else { throw WireError(.malformed, "stored namespace is not 16 bytes") }
        return .company(company)
    }
}
