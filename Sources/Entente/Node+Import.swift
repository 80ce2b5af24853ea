import EntenteCore
import EntenteDomain
import EntenteStore

/// One record of a CRM import: its CRM id (kept as this company's private `crm_id`), its field values and set
/// fields, and the line it came from (for errors).
public struct ImportRecord: Hashable, Sendable {
    /// The line of the source file where the record starts.
    public var line: Int
    /// The CRM's record id.
    public var key: String
    /// The field values (placed by the catalog and this company's policies).
    public var fields: [FieldValue]
    /// Set fields, made exactly equal to these elements.
    public var sets: [String: [String]]

    /// Creates a record.
    public init(line: Int, key: String, fields: [FieldValue], sets: [String: [String]] = [:]) {
        self.line = line
        self.key = key
        self.fields = fields
        self.sets = sets
    }
}

/// A record refused by an import, with the reason.
public struct ImportProblem: Hashable, Sendable {
    /// The line of the source file.
    public let line: Int
    /// Why.
    public let message: String

    /// Creates a problem.
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
}

/// What an import did (or, in a dry run, would do).
public struct ImportSummary: Hashable, Sendable {
    /// Records that created an object.
    public var created = 0
    /// Records that changed an existing object (matched by CRM id).
    public var updated = 0
    /// Records whose object already held every value (nothing written).
    public var unchanged = 0
    /// Records refused, by line.
    public var problems: [ImportProblem] = []
    /// True if nothing was written (a dry run, or an all-or-nothing import with problems).
    public var dryRun = false
}

/// One chunk of an import, sorted: the changes creating new objects, the changes to existing ones, how many
/// records are unchanged, the refused ones, and the lines of the records that write.
struct SortedImport {
    var creates: [Changes] = []
    var updates: [(ObjectID, Changes)] = []
    var unchanged = 0
    var problems: [ImportProblem] = []
    var written: [Int] = []
}

/// Records an import source delivers, in source order: the good ones, and the problems the source found itself
/// (rows that did not convert).
public struct ImportChunk: Sendable {
    /// Records to import.
    public var records: [ImportRecord]
    /// Rows the source could not make into records.
    public var problems: [ImportProblem]

    /// Creates a chunk.
    public init(records: [ImportRecord], problems: [ImportProblem] = []) {
        self.records = records
        self.problems = problems
    }
}

extension Node {
    /// Imports CRM records of one type: a record whose CRM id this company already holds updates that object
    /// (only the fields whose value differs, so importing the same file again writes nothing); any other record
    /// creates an object owned by this company, invited to `participants` and to partners the policies name.
    ///
    /// Every record is checked first (field types, workflow moves). With `skipBadRecords` false (the default)
    /// one bad record means nothing is written and every problem is reported; with it true, the good records are
    /// written and the bad ones reported. Writes go in transactions of `chunk` records; `progress` is called
    /// after each with (records done, records in all).
    public func importRecords(
        type: String,
        _ records: [ImportRecord],
        with participants: [CompanyID] = [],
        skipBadRecords: Bool = false,
        dryRun: Bool = false,
        chunk: Int = 2000,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws(EntenteError) -> ImportSummary {
        try importRecords(
            type: type,
            with: participants,
            skipBadRecords: skipBadRecords,
            dryRun: dryRun,
            chunk: chunk,
            progress: progress
        ) { deliver in
            var start = 0
            repeat {
                let end = min(start + max(chunk, 1), records.count)
                try deliver(ImportChunk(records: Array(records[start..<end])))
                start = end
            } while start < records.count
        }
    }

    /// Imports CRM records that `source` delivers a chunk at a time (see ``importRecords(type:_:with:skipBadRecords:dryRun:chunk:progress:)``),
    /// holding only a chunk of them at once: a CRM file of a million rows is read twice instead of held.
    ///
    /// `source` is called once to check every record (and to collect the problems it reports itself), and, if
    /// the import goes ahead, once more to write, a chunk at a time; it must deliver the same records both times.
    /// Should the second reading find a problem the first did not (the file changed in between), the import
    /// stops there with an error that says how many records were written before it.
    public func importRecords(
        type: String,
        with participants: [CompanyID] = [],
        skipBadRecords: Bool = false,
        dryRun: Bool = false,
        chunk: Int = 2000,
        progress: (Int, Int) -> Void = { _, _ in },
        from source: (_ deliver: (ImportChunk) throws -> Void) throws -> Void
    ) throws(EntenteError) -> ImportSummary {
        let kind = try knownKind(type)
        func read(_ body: (ImportChunk) throws -> Void) throws(EntenteError) {
            do {
                try withoutActuallyEscaping(body) { body in try source(body) }
            } catch let error as EntenteError { throw error } catch {
                throw EntenteError(.badInput, "\(error)")
            }
        }

        var summary = ImportSummary()
        var seen: [String: Int] = [:]
        // The lines of the records to write: the second reading skips the others (unchanged or refused).
        var toWrite = Set<Int>()
        try read { chunk in
            summary.problems += chunk.problems
            let sorted = try sortImport(chunk.records, kind: kind, seen: &seen)
            summary.created += sorted.creates.count
            summary.updated += sorted.updates.count
            summary.unchanged += sorted.unchanged
            summary.problems += sorted.problems
            toWrite.formUnion(sorted.written)
        }
        summary.problems.sort { $0.line < $1.line }
        if dryRun || (!summary.problems.isEmpty && !skipBadRecords) {
            summary.dryRun = true
            return summary
        }
        guard !toWrite.isEmpty else { return summary }

        let total = summary.created + summary.updated
        var written = ImportSummary()
        written.problems = summary.problems
        written.unchanged = summary.unchanged
        seen.removeAll(keepingCapacity: true)
        let known = Set(summary.problems)
        try read { delivered in
            let sorted = try sortImport(delivered.records, kind: kind, seen: &seen, only: toWrite)
            if let problem = sorted.problems.first(where: { !known.contains($0) }) {
                throw EntenteError(
                    .badInput,
                    "line \(problem.line) changed while it was imported (\(problem.message)); records written before it: \(written.created + written.updated)"
                )
            }
            var start = 0
            while start < sorted.creates.count {
                let slice = sorted.creates[start..<min(start + max(chunk, 1), sorted.creates.count)]
                _ = try transaction { tx in try createRecords(kind, Array(slice), with: participants, tx) }
                start += slice.count
                written.created += slice.count
                progress(written.created + written.updated, total)
            }
            start = 0
            while start < sorted.updates.count {
                let slice = sorted.updates[start..<min(start + max(chunk, 1), sorted.updates.count)]
                try transaction { tx in try updateRecords(Array(slice), tx) }
                start += slice.count
                written.updated += slice.count
                progress(written.created + written.updated, total)
            }
        }
        return written
    }

    /// The objects of `type` that import `keys` name: by this company's CRM id, or, for an exported object
    /// without one, by its object id (a re-import matches it).
    private nonisolated func importMatches(
        _ keys: [String],
        type: String,
        _ tx: StoreTransaction
    ) throws -> [String: ObjectID] {
        var found = try tx.objectIDs(of: type, crmIDsIn: .company(company), isOneOf: keys)
        let named = keys.filter { found[$0] == nil }.compactMap { key in ObjectID(hex: key).map { (key, $0) } }
        let held = try tx.creations(of: named.map(\.1))
        for (key, id) in named where held[id]?.type == type { found[key] = id }
        return found
    }

    /// One chunk of an import, sorted. `seen` holds the keys of earlier records (a repeated key is refused); with
    /// `lines`, only the records on those lines are checked (the others only take their keys). The objects the
    /// chunk's keys name are looked up for the chunk alone, so an import holds no map of the store's records.
    private func sortImport(
        _ records: [ImportRecord],
        kind: ObjectKind,
        seen: inout [String: Int],
        only lines: Set<Int>? = nil
    ) throws(EntenteError) -> SortedImport {
        let keys = records.filter { lines?.contains($0.line) ?? true }.map(\.key)
        let matches = try reading { tx in try importMatches(keys, type: kind.name, tx) }
        var sorted = SortedImport()
        var matched: [(ImportRecord, ObjectID)] = []
        for record in records {
            if let first = seen[record.key] {
                sorted.problems.append(
                    ImportProblem(line: record.line, message: "CRM id '\(record.key)' is also on line \(first)")
                )
                continue
            }
            seen[record.key] = record.line
            if let lines, !lines.contains(record.line) { continue }
            if let id = matches[record.key] {
                matched.append((record, id))
                continue
            }
            do {
                sorted.creates.append(try newImportChanges(record, kind: kind))
                sorted.written.append(record.line)
            } catch {
                sorted.problems.append(ImportProblem(line: record.line, message: error.message))
            }
        }
        guard !matched.isEmpty else { return sorted }
        try reading { tx in
            let policies = try policySet(tx)
            var start = 0
            while start < matched.count {
                let slice = matched[start..<min(start + 1000, matched.count)]
                start += slice.count
                let states = try tx.loadObjects(slice.map(\.1))
                for (record, id) in slice {
                    do {
                        if let changes = try importChanges(record, into: states[id], kind: kind, policies: policies) {
                            sorted.updates.append((id, changes))
                            sorted.written.append(record.line)
                        } else {
                            sorted.unchanged += 1
                        }
                    } catch let error as EntenteError {
                        sorted.problems.append(ImportProblem(line: record.line, message: error.message))
                    }
                }
            }
        }
        return sorted
    }

    /// The changes creating a record's object, checked like a local write.
    func newImportChanges(_ record: ImportRecord, kind: ObjectKind) throws(EntenteError) -> Changes {
        var changes = Changes(fields: try checkedFields(record, kind: kind))
        changes.privateFields.append(FieldValue("crm_id", .string(record.key)))
        changes.sets = record.sets
        if let workflow = kind.workflow,
            case .string(let target)? = changes.fields.first(where: { $0.name == workflow.field })?.value
        {
            for required in workflow.requires[target, default: []]
            where !changes.fields.contains(where: { $0.name == required && $0.value != .null }) {
                throw EntenteError(.invalidArgument, "\(kind.name) in '\(target)' needs \(required)")
            }
        }
        return changes
    }

    /// The changes bringing an existing object to a record's values (nil if it already holds them); a stage
    /// change is checked as a move by the owner that may reopen (the CRM is the owner's record of the deal).
    func importChanges(
        _ record: ImportRecord,
        into state: ObjectState?,
        kind: ObjectKind,
        policies: PolicySet
    ) throws(EntenteError) -> Changes? {
        let fields = try checkedFields(record, kind: kind)
        guard let state, state.isParticipant(company) else {
            throw EntenteError(.rejected, "the object with CRM id '\(record.key)' no longer takes part")
        }
        // Compare with the value where the write would go: the catalog's and the policies' placement.
        var changes = Changes()
        let values = prospectiveValues(Changes(fields: fields), state)
        func key(_ name: String) -> FieldKey {
            FieldKey(placement(of: name, kind: kind, policies: policies, values: values).0, name)
        }
        for field in fields {
            let target = key(field.name)
            let current = state.fields[target].flatMap { kind.ordered($0, key: target).first?.value }
            if current != field.value { changes.fields.append(field) }
        }
        for (name, elements) in record.sets where Set(state.sets[key(name)]?.members ?? []) != Set(elements) {
            changes.sets[name] = elements
        }
        guard !changes.isEmpty else { return nil }
        if let workflow = kind.workflow,
            case .string(let target)? = changes.fields.first(where: { $0.name == workflow.field })?.value
        {
            if let problem = workflow.problem(
                from: kind.state(of: state),
                to: target,
                isOwner: state.owner == company,
                reopening: true,
                isReservedAllowed: true
            ) {
                throw EntenteError(.invalidArgument, problem)
            }
            for required in workflow.requires[target, default: []]
            where !changes.fields.contains(where: { $0.name == required }) && !hasValue(required, in: state) {
                throw EntenteError(.invalidArgument, "moving to '\(target)' needs \(required)")
            }
            changes.reopen = true
            changes.isConversion = true
        }
        return changes
    }

    /// The record's values, type-checked against the catalog (text read in each field's canonical form).
    func checkedFields(_ record: ImportRecord, kind: ObjectKind) throws(EntenteError) -> [FieldValue] {
        guard !record.key.isEmpty else { throw EntenteError(.invalidArgument, "the CRM id is empty") }
        var result: [FieldValue] = []
        for field in record.fields {
            guard FieldKey.isValidName(field.name) else {
                throw EntenteError(.invalidArgument, "field name '\(field.name)' is not valid")
            }
            guard field.name != "crm_id" else { continue }
            let joint = kind.field(named: field.name)?.placement == .joint
            switch kind.check(field.name, field.value, joint: joint) {
            case .success(let value): result.append(FieldValue(field.name, value))
            case .failure(let problem): throw EntenteError(.invalidArgument, problem.message)
            }
        }
        return result
    }
}

/// One object as a CRM export row: its key (this company's CRM id, else the object id), and the values this
/// company sees (joint fields, overlaid by its own).
public struct ExportRecord: Hashable, Sendable {
    /// The CRM id, or the object's id for objects without one (a re-import matches either).
    public let key: String
    /// Field values by name (`crm_id` excluded).
    public let values: [String: Value]
    /// Set fields by name.
    public let sets: [String: [String]]
}

extension Node {
    /// The objects of `type` this company takes part in, as export rows (archived objects left out).
    public func exportRecords(type: String) throws(EntenteError) -> [ExportRecord] {
        var rows: [ExportRecord] = []
        try exportRecords(type: type) { page in rows += page }
        return rows
    }

    /// Passes the export rows of `type` to `page` a page (`pageSize` objects) at a time, in creation order, from
    /// one consistent read: an export of a million records never holds more than a page of them. Returns how
    /// many rows it passed. An error `page` throws stops the export and is rethrown (an `EntenteError` as is).
    @discardableResult
    public func exportRecords(
        type: String,
        pageSize: Int = 1000,
        _ page: ([ExportRecord]) throws -> Void
    ) throws(EntenteError) -> Int {
        let kind = try knownKind(type)
        return try reading { tx in
            var rows: [ExportRecord] = []
            var count = 0
            try forEachObject(of: type, tx) { state in
                guard state.isParticipant(company) else { return }
                var values: [String: Value] = [:]
                var sets: [String: [String]] = [:]
                let own = Namespace.company(company)
                for namespace in [Namespace.joint, own] {
                    for (key, field) in state.fields where key.namespace == namespace {
                        values[key.name] = kind.ordered(field, key: key).first?.value ?? field.winner.value
                    }
                    for (key, set) in state.sets where key.namespace == namespace { sets[key.name] = set.members }
                }
                var crmID: String?
                if case .string(let text)? = values.removeValue(forKey: "crm_id") { crmID = text }
                rows.append(ExportRecord(key: crmID ?? state.id.hex, values: values, sets: sets))
                if rows.count >= max(pageSize, 1) {
                    count += rows.count
                    try page(rows)
                    rows.removeAll(keepingCapacity: true)
                }
            }
            if !rows.isEmpty {
                count += rows.count
                try page(rows)
            }
            return count
        }
    }
}
