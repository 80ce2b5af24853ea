import EntenteCore
import EntenteDomain

extension CSVPlan {
    /// Converts a whole CSV file.
    /// - Parameters:
    ///   - path: the file.
    ///   - resolveCompany: maps a company name or id found in a company column to the company's id in hex (nil:
    ///     unknown, a row error). The default accepts ids only.
    ///   - progress: called with the number of records read so far, every 1,000 records and at the end.
    /// - Returns: the good rows, every row error, and the file's warnings.
    /// - Throws: `CSVError` if the file cannot be read, has no header, or lacks the key column (or a needed
    ///   currency column), or if a column the mapping reads appears twice in the header.
    public func convert(
        fileAt path: String,
        resolveCompany: (String) -> String? = CSVPlan.companyIDs,
        progress: (Int) -> Void = { _ in }
    ) throws(CSVError) -> CSVImportResult {
        try collect(try CSVReader(path: path), resolveCompany: resolveCompany, progress: progress)
    }

    /// Converts CSV text held in memory (see ``convert(fileAt:resolveCompany:progress:)``).
    public func convert(
        text: String,
        resolveCompany: (String) -> String? = CSVPlan.companyIDs
    ) throws(CSVError) -> CSVImportResult {
        try collect(try CSVReader(string: text), resolveCompany: resolveCompany, progress: { _ in })
    }

    private func collect(
        _ reader: CSVReader,
        resolveCompany: (String) -> String?,
        progress: (Int) -> Void
    ) throws(CSVError) -> CSVImportResult {
        var rows: [ImportRow] = []
        var errors: [RowError] = []
        let warnings = try convert(
            reader,
            resolveCompany: resolveCompany,
            progress: progress,
            onRow: { rows.append($0) },
            onError: { errors.append($0) }
        )
        return CSVImportResult(rows: rows, errors: errors, warnings: warnings, recordsRead: reader.recordsRead)
    }

    /// Converts the records of a reader one at a time, for imports that stream or show progress.
    ///
    /// A record becomes either one call of `onRow` or one or more calls of `onError` (one per bad cell). A key
    /// seen on an earlier line makes the later row an error naming both lines; the earlier row stands.
    /// - Parameters:
    ///   - reader: a reader positioned after its header.
    ///   - resolveCompany: maps a company name or id to the company's id in hex (nil: unknown).
    ///   - progress: called with the number of records read so far, every 1,000 records and at the end.
    ///   - onRow: receives each good row, in file order.
    ///   - onError: receives each problem, in file order.
    /// - Returns: the file's warnings (ignored columns, mapped columns missing from the file).
    /// - Throws: `CSVError` if the header lacks the key column (or a needed currency column), if a column the
    ///   mapping reads appears twice in the header, or if the file cannot be read.
    public func convert(
        _ reader: CSVReader,
        resolveCompany: (String) -> String? = CSVPlan.companyIDs,
        progress: (Int) -> Void = { _ in },
        onRow: (ImportRow) -> Void,
        onError: (RowError) -> Void
    ) throws(CSVError) -> [String] {
        let (binding, warnings) = try bind(reader.header, line: reader.headerLine)
        var keys: [String: Int] = [:]
        var rowErrors: [RowError] = []
        while true {
            let record: CSVRecord
            do {
                guard let next = try reader.next() else { break }
                record = next
            } catch {
                if error.code == .unreadableFile { throw error }
                let column = error.cell.flatMap { $0 <= reader.header.count ? reader.header[$0 - 1] : nil }
                onError(RowError(line: error.line ?? 0, column: column, message: error.message))
                if reader.recordsRead % 1000 == 0 { progress(reader.recordsRead) }
                continue
            }
            rowErrors.removeAll(keepingCapacity: true)
            if let row = convert(
                record,
                binding: binding,
                keys: &keys,
                resolveCompany: resolveCompany,
                errors: &rowErrors
            ) {
                onRow(row)
            }
            for error in rowErrors { onError(error) }
            if reader.recordsRead % 1000 == 0 { progress(reader.recordsRead) }
        }
        progress(reader.recordsRead)
        return warnings
    }

    /// Where each mapped column sits in a file's header.
    struct Binding {
        var key: Int
        var cells: [Int?]
        var currencies: [Int?]
    }

    /// Finds the mapped columns in a header: by exact name, else by name trimmed and case-folded.
    func bind(_ header: [String], line: Int) throws(CSVError) -> (Binding, [String]) {
        var exact: [String: [Int]] = [:]
        var folded: [String: [Int]] = [:]
        for (index, name) in header.enumerated() {
            exact[name, default: []].append(index)
            folded[ValueMap.fold(name), default: []].append(index)
        }
        var used = Set<Int>()
        func find(_ name: String) throws(CSVError) -> Int? {
            guard let matches = exact[name] ?? folded[ValueMap.fold(name)] else { return nil }
            guard matches.count == 1 else {
                let positions = matches.map { String($0 + 1) }.joined(separator: " and ")
                throw CSVError(
                    .duplicateColumn,
                    "column '\(name)' appears more than once in the header (columns \(positions))",
                    line: line
                )
            }
            used.insert(matches[0])
            return matches[0]
        }
        guard let key = try find(mapping.keyColumn) else {
            throw CSVError(
                .missingColumn,
                "the header has no key column '\(mapping.keyColumn)' (the CRM record id); its columns are: "
                    + header.joined(separator: ", "),
                line: line
            )
        }
        var warnings: [String] = []
        var cells: [Int?] = []
        var currencies: [Int?] = []
        var missing: [String] = []
        for column in columns {
            let cell = try find(column.column)
            cells.append(cell)
            if cell == nil && !missing.contains(column.column) { missing.append(column.column) }
            var currency: Int?
            if let currencyColumn = column.currencyColumn {
                currency = try find(currencyColumn)
                if currency == nil && cell != nil {
                    guard let fixed = column.currency else {
                        throw CSVError(
                            .missingColumn,
                            "the header has no currency column '\(currencyColumn)', which gives the currency of "
                                + "'\(column.column)', and the mapping names no default currency",
                            line: line
                        )
                    }
                    warnings.append(
                        "column '\(currencyColumn)' is not in the file: amounts of '\(column.column)' are in \(fixed)"
                    )
                }
            }
            currencies.append(currency)
        }
        if !missing.isEmpty {
            warnings.append(
                "columns of the mapping not in the file (their fields are left as is): "
                    + missing.joined(separator: ", ")
            )
        }
        let ignored = header.indices.filter { !used.contains($0) && !header[$0].isEmpty }.map { header[$0] }
        if !ignored.isEmpty {
            warnings.append("ignored columns (not in the mapping): " + ignored.joined(separator: ", "))
        }
        return (Binding(key: key, cells: cells, currencies: currencies), warnings)
    }

    func convert(
        _ record: CSVRecord,
        binding: Binding,
        keys: inout [String: Int],
        resolveCompany: (String) -> String?,
        errors: inout [RowError]
    ) -> ImportRow? {
        let key = String(Lenient.trim(record.cells[binding.key]))
        if key.isEmpty {
            errors.append(
                RowError(
                    line: record.line,
                    column: mapping.keyColumn,
                    message: "the key (the CRM record id) is empty"
                )
            )
        } else if let first = keys[key] {
            errors.append(
                RowError(
                    line: record.line,
                    column: mapping.keyColumn,
                    message: "key '\(key)' is also on line \(first): each record may appear once per file"
                )
            )
        } else {
            keys[key] = record.line
        }
        var row = ImportRow(line: record.line, key: key)
        row.values.reserveCapacity(columns.count)
        for (index, column) in columns.enumerated() {
            guard let cell = binding.cells[index] else { continue }
            let currencyCell = binding.currencies[index].map { record.cells[$0] }
            switch column.read(
                record.cells[cell],
                currencyCell: currencyCell,
                numberFormat: numberFormat,
                resolveCompany: resolveCompany
            ) {
            case .absent: break
            case .value(let value): row.values.append((column.field, value))
            case .elements(let elements): row.sets.append((column.field, elements))
            case .failure(let message):
                errors.append(RowError(line: record.line, column: column.column, message: message))
            }
        }
        return errors.isEmpty ? row : nil
    }
}

/// What one cell gives its field.
enum CellOutcome: Equatable {
    /// Nothing: the field is left as is.
    case absent
    /// A value (null clears the field).
    case value(Value)
    /// A set's elements.
    case elements([String])
    /// A sentence naming the value and the expected form.
    case failure(String)
}

extension ResolvedColumn {
    /// Reads a cell leniently (`Specs/csv.md`, "Value formats").
    func read(
        _ cell: String,
        currencyCell: String?,
        numberFormat: NumberFormat,
        resolveCompany: (String) -> String?
    ) -> CellOutcome {
        if type == .text && values == nil && !cell.isEmpty { return .value(.string(cell)) }
        var text = cell
        let blank = type == .text ? cell.isEmpty : Lenient.trim(cell).isEmpty
        if blank {
            guard let mapped = values?.exact[""] else { return empty }
            text = mapped
        }
        if type == .set {
            var elements: [String] = []
            for piece in Self.split(text, by: separator) {
                let element = String(Lenient.trim(piece))
                guard !element.isEmpty else { continue }
                let mapped = values?.map(element) ?? element
                if !elements.contains(mapped) { elements.append(mapped) }
            }
            return elements.isEmpty ? empty : .elements(elements)
        }
        if !blank, let mapped = values?.map(text) { text = mapped }
        let shown = "'\(cell)'"
        switch type {
        case .text:
            return .value(.string(text))
        case .choice(let allowed):
            if allowed.contains(text) { return .value(.string(text)) }
            let wanted = Self.normalize(text)
            if let match = allowed.first(where: { Self.normalize($0) == wanted }) { return .value(.string(match)) }
            var expected = "one of " + allowed.joined(separator: ", ")
            if let values, !values.crmValues.isEmpty {
                let listed = values.crmValues.prefix(12).joined(separator: ", ")
                expected += " or a value of the mapping (\(listed)\(values.crmValues.count > 12 ? ", ..." : ""))"
            }
            return .failure("\(shown) is not a known \(field): expected \(expected)")
        case .integer(let range):
            guard let number = Lenient.integer(text, format: numberFormat) else {
                return .failure(
                    "\(shown) is not a whole number (such as 25, 25% or \(numberFormat.rawValue.prefix(5)))"
                )
            }
            if let range, !range.contains(number) {
                return .failure("\(shown) is out of range \(range.lowerBound)-\(range.upperBound)")
            }
            return .value(.integer(number))
        case .decimal:
            guard let number = Lenient.decimal(text, format: numberFormat) else {
                return .failure("\(shown) is not a number (such as \(numberFormat.rawValue) or 25%)")
            }
            return .value(.decimal(number))
        case .money:
            return money(cell, currencyCell: currencyCell, numberFormat: numberFormat)
        case .boolean:
            guard let flag = Lenient.boolean(text) else {
                return .failure("\(shown) is not a boolean (true/false, yes/no, 1/0 or x)")
            }
            return .value(.boolean(flag))
        case .date:
            guard let date = Lenient.date(text, formats: acceptedDates) else {
                return .failure("\(shown) is not a date in the form \(describeDates())")
            }
            return .value(.date(date))
        case .timestamp:
            guard let milliseconds = Lenient.timestamp(text, formats: acceptedDates) else {
                return .failure(
                    "\(shown) is not a date and time such as 2027-03-31T09:30:00Z or 2027-03-31 09:30:00 "
                        + "(dates in the form \(describeDates()))"
                )
            }
            return .value(.timestamp(milliseconds))
        case .reference(let kind):
            guard let id = ObjectID(hex: Lenient.trim(text).lowercased()) else {
                return .failure("\(shown) is not a \(kind) id (32 hex digits)")
            }
            return .value(.reference(id))
        case .company:
            let name = String(Lenient.trim(text))
            guard let id = resolveCompany(name), CSVPlan.companyIDs(id) == id else {
                return .failure("unknown company \(shown): not the name or id of a company this node knows")
            }
            return .value(.string(id))
        case .set:
            return .absent
        }
    }

    /// Splits a set cell at each occurrence of the separator.
    static func split(_ text: String, by separator: String) -> [String] {
        let bytes = Array(text.utf8)
        let mark = Array(separator.utf8)
        var pieces: [String] = []
        var start = 0
        var index = 0
        while index + mark.count <= bytes.count {
            if bytes[index] == mark[0] && bytes[index..<(index + mark.count)].elementsEqual(mark) {
                pieces.append(String(decoding: bytes[start..<index], as: UTF8.self))
                index += mark.count
                start = index
            } else {
                index += 1
            }
        }
        pieces.append(String(decoding: bytes[start...], as: UTF8.self))
        return pieces
    }

    private var empty: CellOutcome {
        switch emptyCells {
        case .skip: .absent
        case .unset: type == .set ? .elements([]) : .value(.null)
        }
    }

    private func describeDates() -> String {
        acceptedDates.map(\.rawValue).joined(separator: " or ")
    }

    /// Lower case, with spaces and underscores as hyphens: `Closed Won` matches `closed-won`.
    static func normalize(_ text: String) -> String {
        String(Lenient.trim(text).lowercased().map { $0 == " " || $0 == "_" ? "-" : $0 })
    }

    private func money(_ cell: String, currencyCell: String?, numberFormat: NumberFormat) -> CellOutcome {
        let shown = "'\(cell)'"
        guard let amount = Lenient.amount(cell, format: numberFormat) else {
            let example = numberFormat == .standard ? "1,200,000.00" : numberFormat.rawValue
            return .failure(
                "\(shown) is not an amount (such as \(example), $\(example), \(example) USD or (\(example)))"
            )
        }
        var code = amount.code
        if code == nil, let currencyCell, let currencyColumn {
            let given = Lenient.trim(currencyCell)
            if !given.isEmpty {
                guard let parsed = CurrencyCode(String(given)) else {
                    return .failure(
                        "'\(currencyCell)' in column '\(currencyColumn)' is not an ISO 4217 currency code such as USD"
                    )
                }
                code = parsed
            }
        }
        if code == nil, let symbol = amount.symbol, let codes = Lenient.symbols[symbol], codes.count == 1 {
            code = CurrencyCode(codes[0])
        }
        guard let currency = code ?? self.currency else {
            return .failure(
                "\(shown) has no currency: the '\(currencyColumn ?? "currency")' cell is empty and the mapping "
                    + "names no default currency"
            )
        }
        if let symbol = amount.symbol, let codes = Lenient.symbols[symbol], !codes.isEmpty,
            !codes.contains(currency.code)
        {
            return .failure("\(shown) is written in \(symbol) but its currency is \(currency.code)")
        }
        return .value(.money(Money(amount: amount.amount, currency: currency)))
    }
}
