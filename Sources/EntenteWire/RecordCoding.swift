package import EntenteCore

/// An object's scalar fields in one stored value: the store's `record` row (`Specs/storage.md`, "Records").
///
///     record   = version(1) idCount:varint id*(16 bytes) entry*
///     entry    = head:varint nameLength:varint name payloadLength:varint payload
///                head = namespace << 1 | conflicted   (namespace 0: joint; k: company ids[k-1])
///     payload  = register preds superseded conflictCount:varint (register preds)*
///     register = value stamp visibility writer:varint(index into ids)
///     stamp    = physical:varint counter:varint replica:varint(index into ids)
///     preds, superseded = count:varint stamp*
///
/// Company and replica ids are written once per record, in its id table, and referred to by index: most
/// fields of a record are written by one or two replicas, and 16-byte ids per field were more than half the
/// bytes. Entries are self-contained given the table, so a save rewrites only the entries that changed and
/// copies the others as they are (`encode(_:onto:)`); the table only grows until the record is rewritten
/// whole.
package enum RecordCoding {
    static let version: UInt8 = 1

    /// A record's id table while an entry is encoded: ids are appended the first time they are used.
    struct IDTable {
        var ids: [ID128]

        mutating func index(_ id: ID128) -> UInt64 {
            if let found = ids.firstIndex(of: id) { return UInt64(found) }
            ids.append(id)
            return UInt64(ids.count - 1)
        }
    }

    /// One entry of a record, located but not decoded.
    package struct Entry {
        /// 0 for the joint namespace, k for the company `ids[k - 1]`.
        var namespace: Int
        /// Where its name's UTF-8 bytes are.
        var name: Range<Int>
        package var conflicted: Bool
        /// The entry's bytes, head to payload end.
        var bytes: Range<Int>
        /// Where its payload starts.
        var payload: Int
    }

    /// A record's id table and entries, located. Names stay bytes until a key is asked for: building a string
    /// (and checking its UTF-8) for each of a record's twenty fields, when a merge wants three, was a sixth of
    /// a delta's import.
    package struct Layout {
        let bytes: [UInt8]
        var ids: [ID128]
        package var entries: [Entry]

        package func namespace(of entry: Entry) -> Namespace {
            entry.namespace == 0 ? .joint : .company(CompanyID(raw: ids[entry.namespace - 1]))
        }

        package func key(of entry: Entry) -> FieldKey {
            FieldKey(namespace(of: entry), String(decoding: bytes[entry.name], as: UTF8.self))
        }

        /// Whether any entry is in `namespace`.
        package func contains(namespace wanted: Namespace) -> Bool {
            entries.contains { namespace(of: $0) == wanted }
        }

        /// Whether `entry` is the field `key`, compared in place.
        func matches(_ entry: Entry, _ key: FieldKey) -> Bool {
            switch key.namespace {
            case .joint: guard entry.namespace == 0 else { return false }
            case .company(let company): guard entry.namespace > 0, ids[entry.namespace - 1] == company.raw else { return false }
            }
            let name = bytes[entry.name]
            return key.name.utf8.withContiguousStorageIfAvailable { $0.elementsEqual(name) }
                ?? key.name.utf8.elementsEqual(name)
        }
    }

    /// Locates every entry of `bytes` (no field state is decoded).
    package static func layout(_ bytes: [UInt8]) throws(WireError) -> Layout {
        var reader = ByteReader(bytes, what: "stored record")
        guard try reader.readByte("version") == version else { throw reader.malformed("unknown record version") }
        let count = try reader.readCount("id count", limit: bytes.count / ID128.byteCount)
        var ids: [ID128] = []
        ids.reserveCapacity(count)
        for _ in 0..<count {
            guard let id = ID128(bytes: try reader.readSlice(ID128.byteCount, "id")) else {
                throw reader.malformed("id is not 16 bytes")
            }
            ids.append(id)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(24)
        while !reader.isAtEnd {
            let start = reader.offset
            let head = try reader.readVarint("entry head")
            guard head >> 1 <= UInt64(ids.count) else {
                throw reader.malformed("namespace refers to id \((head >> 1) - 1) of \(ids.count)")
            }
            let nameLength = try reader.readCount("field name length", limit: FieldKey.maxNameBytes)
            let name = reader.offset..<reader.offset + nameLength
            _ = try reader.readSlice(nameLength, "field name")
            let length = try reader.readCount("payload length", limit: reader.remaining)
            let payload = reader.offset
            _ = try reader.readSlice(length, "payload")
            entries.append(
                Entry(
                    namespace: Int(head >> 1),
                    name: name,
                    conflicted: head & 1 == 1,
                    bytes: start..<reader.offset,
                    payload: payload
                )
            )
        }
        return Layout(bytes: bytes, ids: ids, entries: entries)
    }

    /// The field states of `bytes` whose key `wanted` holds (all of them when it is nil).
    package static func decode(_ bytes: [UInt8], wanted: Set<FieldKey>? = nil) throws(WireError) -> [FieldKey: FieldState] {
        let layout = try layout(bytes)
        var fields: [FieldKey: FieldState] = [:]
        fields.reserveCapacity(wanted?.count ?? layout.entries.count)
        if let wanted, wanted.count <= 8 {
            // A few wanted keys (a merge's) are compared in place, in turn.
            let few = Array(wanted)
            for entry in layout.entries {
                guard let key = few.first(where: { layout.matches(entry, $0) }) else { continue }
                fields[key] = try decode(entry, of: bytes, layout.ids)
            }
            return fields
        }
        for entry in layout.entries {
            let key = layout.key(of: entry)
            if wanted?.contains(key) == false { continue }
            fields[key] = try decode(entry, of: bytes, layout.ids)
        }
        return fields
    }

    /// The state of one located entry.
    static func decode(_ entry: Entry, of bytes: [UInt8], _ ids: [ID128]) throws(WireError) -> FieldState {
        var reader = ByteReader(bytes, what: "stored record")
        reader.skip(to: entry.payload)
        var winner = try register(&reader, ids)
        winner.preds = try stamps(&reader, ids, "predecessors")
        let superseded = try stamps(&reader, ids, "superseded")
        let conflicts = try reader.readCount("conflict count", limit: reader.remaining)
        var heads = [winner]
        for _ in 0..<conflicts {
            var head = try register(&reader, ids)
            head.preds = try stamps(&reader, ids, "predecessors")
            heads.append(head)
        }
        guard reader.offset == entry.bytes.upperBound else {
            throw reader.malformed("a field's payload length does not match its contents")
        }
        return FieldState(heads: heads, superseded: superseded)
    }

    /// `changes` written over the record `old` (nil: a new record). The entries of other keys are copied as they
    /// are; new keys are appended in key order. Returns the record and whether any of its fields is conflicted.
    package static func encode(
        _ changes: [(key: FieldKey, state: FieldState)],
        onto old: [UInt8]?
    ) throws(WireError) -> (bytes: [UInt8], conflicted: Bool) {
        let previous = try old.map { bytes throws(WireError) in try layout(bytes) }
        var table = IDTable(ids: previous?.ids ?? [])
        // In key order, so that the same fields give the same bytes (and ids the same indexes) in any order.
        let order = changes.indices.sorted { changes[$0].key < changes[$1].key }
        var encoded = [[UInt8]](repeating: [], count: changes.count)
        for index in order { encoded[index] = entry(changes[index].key, changes[index].state, &table) }
        var writer = ByteWriter(capacity: (old?.count ?? 0) + encoded.reduce(0) { $0 + $1.count } + 64)
        writer.write(version)
        writer.writeVarint(UInt64(table.ids.count))
        for id in table.ids {
            writer.writeUInt64(id.high)
            writer.writeUInt64(id.low)
        }
        var conflicted = false
        var written = [Bool](repeating: false, count: changes.count)
        if let old, let previous {
            for entry in previous.entries {
                if let index = changes.firstIndex(where: { previous.matches(entry, $0.key) }) {
                    if !written[index] {
                        writer.write(encoded[index])
                        conflicted = conflicted || changes[index].state.heads.count > 1
                        written[index] = true
                    }
                } else {
                    writer.write(old[entry.bytes])
                    conflicted = conflicted || entry.conflicted
                }
            }
        }
        for index in order where !written[index] {
            writer.write(encoded[index])
            conflicted = conflicted || changes[index].state.heads.count > 1
            written[index] = true
        }
        return (writer.bytes, conflicted)
    }

    static func entry(_ key: FieldKey, _ state: FieldState, _ table: inout IDTable) -> [UInt8] {
        var payload = ByteWriter(capacity: 48)
        register(state.winner, &payload, &table)
        stamps(state.winner.preds, &payload, &table)
        stamps(state.superseded, &payload, &table)
        payload.writeVarint(UInt64(state.heads.count - 1))
        for head in state.conflicts {
            register(head, &payload, &table)
            stamps(head.preds, &payload, &table)
        }
        var writer = ByteWriter(capacity: payload.bytes.count + key.name.utf8.count + 4)
        let namespace: UInt64 =
            switch key.namespace {
            case .joint: 0
            case .company(let company): table.index(company.raw) + 1
            }
        writer.writeVarint(namespace << 1 | (state.heads.count > 1 ? 1 : 0))
        writer.writeString(key.name)
        writer.writeVarint(UInt64(payload.bytes.count))
        writer.write(payload.bytes)
        return writer.bytes
    }

    static func register(_ register: Register, _ writer: inout ByteWriter, _ table: inout IDTable) {
        OperationCodec.encode(register.value, into: &writer)
        stamp(register.timestamp, &writer, &table)
        switch register.visibility {
        case .private: writer.write(OperationCodec.Tag.private)
        case .participants: writer.write(OperationCodec.Tag.participants)
        case .companies(let companies):
            writer.write(OperationCodec.Tag.companies)
            writer.writeVarint(UInt64(companies.count))
            for company in companies.sorted() { writer.writeVarint(table.index(company.raw)) }
        }
        writer.writeVarint(table.index(register.writer.raw))
    }

    static func stamp(_ stamp: Timestamp, _ writer: inout ByteWriter, _ table: inout IDTable) {
        writer.writeVarint(stamp.physical)
        writer.writeVarint(UInt64(stamp.counter))
        writer.writeVarint(table.index(stamp.replica.raw))
    }

    static func stamps(_ stamps: [Timestamp], _ writer: inout ByteWriter, _ table: inout IDTable) {
        writer.writeVarint(UInt64(stamps.count))
        for one in stamps { stamp(one, &writer, &table) }
    }

    static func register(_ reader: inout ByteReader, _ ids: [ID128]) throws(WireError) -> Register {
        let value = try OperationCodec.decodeValue(&reader)
        let timestamp = try stamp(&reader, ids)
        let visibility: Visibility
        switch try reader.readByte("visibility") {
        case OperationCodec.Tag.private: visibility = .private
        case OperationCodec.Tag.participants: visibility = .participants
        case OperationCodec.Tag.companies:
            var companies = Set<CompanyID>()
            for _ in 0..<(try reader.readCount("visibility count", limit: ids.count)) {
                companies.insert(CompanyID(raw: try id(&reader, ids, "visibility company")))
            }
            visibility = .companies(companies)
        case let tag: throw reader.malformed("unknown visibility tag \(tag)")
        }
        let writer = CompanyID(raw: try id(&reader, ids, "writer"))
        return Register(value: value, timestamp: timestamp, visibility: visibility, writer: writer)
    }

    static func stamp(_ reader: inout ByteReader, _ ids: [ID128]) throws(WireError) -> Timestamp {
        let physical = try reader.readVarint("physical time")
        let counter = try reader.readVarint("counter")
        guard counter <= UInt64(UInt32.max) else { throw reader.malformed("counter overflows 32 bits") }
        return Timestamp(
            physical: physical,
            counter: UInt32(counter),
            replica: ReplicaID(raw: try id(&reader, ids, "replica"))
        )
    }

    static func stamps(_ reader: inout ByteReader, _ ids: [ID128], _ what: String) throws(WireError) -> [Timestamp] {
        let count = try reader.readCount("\(what) count", limit: reader.remaining)
        var result: [Timestamp] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try stamp(&reader, ids)) }
        return result
    }

    static func id(_ reader: inout ByteReader, _ ids: [ID128], _ what: String) throws(WireError) -> ID128 {
        let index = try reader.readVarint(what)
        guard index < UInt64(ids.count) else { throw reader.malformed("\(what) refers to id \(index) of \(ids.count)") }
        return ids[Int(index)]
    }
}
