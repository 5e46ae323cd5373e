# wsl2-migrate runbook library: the static part of every generated runbook (migrate/emit/runbook.py inlines it).
#
# Read this file to review what a runbook can do. The generated part above it only holds data: the parameters,
# the plan hash, and one hashtable per step (its docker command line or host action, and its parameters).
# Conventions: docs runbook-style section 9. In short: one native-call helper (Invoke-NativeProcess) starts every
# program through System.Diagnostics.Process with a pre-encoded Arguments string; every change sits under
# $PSCmdlet.ShouldProcess; the journal and manifests are written atomically as UTF-8 without BOM; nothing binary
# ever passes through a PowerShell pipe; source data and backups are never deleted.

$script:Utf8NoBom = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
$script:Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$script:Lf = [string][char]10
$script:CrLf = [string][char]13 + [string][char]10
$script:JournalFormat = 'wsl2-migrate-journal/1'
$script:ArtifactFormat = 'wsl2-migrate-artifacts/1'
$script:DesktopProcessNames = @(
    'Docker Desktop',
    'Docker for Windows',
    'com.docker.backend',
    'com.docker.build',
    'com.docker.proxy',
    'com.docker.dev-envs',
    'com.docker.wsl-distro-proxy',
    'vpnkit'
)
$script:Results = New-Object -TypeName 'System.Collections.Generic.List[object]'
$script:RunStatus = @{}
$script:StepNotes = New-Object -TypeName 'System.Collections.Generic.List[string]'
$script:StepDeclined = $false
$script:StopRequested = $false
$script:DryRun = $false
$script:LogPath = ''
$script:BackupRoot = ''
$script:DockerExe = ''
$script:Engines = @{}
$script:Options = @{}
$script:Journal = @{}
$script:Artifacts = @{}

# ---------------------------------------------------------------------------------------------------------------
# Messages and small helpers

function Write-RunbookLog {
    # Verbose message, and one JSON line in the run's log file (real runs only). Never given secret values.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Message,
        [AllowEmptyString()] [string]$StepId = ''
    )
    Write-Verbose -Message ($StepId + ': ' + $Message)
    if ($script:LogPath.Length -eq 0) {
        return
    }
    $record = [ordered]@{
        time    = Get-TimeStamp
        step    = $StepId
        message = $Message
    }
    $line = (ConvertTo-Json -InputObject $record -Compress) + $script:Lf
    [System.IO.File]::AppendAllText($script:LogPath, $line, $script:Utf8NoBom)
}

function Get-TimeStamp {
    # UTC, with a space instead of 'T': PowerShell 7's ConvertFrom-Json would turn ISO 8601 text into a DateTime.
    [CmdletBinding()]
    [OutputType([string])]
    param()
    return (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm:ss', $script:Invariant) + 'Z'
}

function Add-StepNote {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string]$Text
    )
    $script:StepNotes.Add($Text)
}

function Get-TextTail {
    # The end of a program's stderr, on one line, for error messages.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowEmptyString()] [string]$Text = '',
        [int]$Length = 600
    )
    $flat = ($Text -replace '\s+', ' ').Trim()
    if ($flat.Length -gt $Length) {
        $flat = '...' + $flat.Substring($flat.Length - $Length)
    }
    if ($flat.Length -eq 0) {
        return '(no message)'
    }
    return $flat
}

function Get-JsonProperty {
    # A property of a ConvertFrom-Json object, or $Default: strict mode throws on reading a missing property.
    [CmdletBinding()]
    param(
        [AllowNull()] [object]$Object,
        [Parameter(Mandatory = $true)] [string]$Name,
        [AllowNull()] [object]$Default = $null
    )
    if ($null -eq $Object) {
        return $Default
    }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) {
        return $Default
    }
    return $property.Value
}

function Find-JsonProperty {
    # The property named exactly $Name (case-sensitive) or, unless -Exact, the first one differing only in case.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [object]$Object,
        [Parameter(Mandatory = $true)] [string]$Name,
        [switch]$Exact
    )
    foreach ($property in $Object.PSObject.Properties) {
        if ($property.Name -ceq $Name) {
            return $property
        }
    }
    if (-not $Exact) {
        foreach ($property in $Object.PSObject.Properties) {
            if ($property.Name -eq $Name) {
                return $property
            }
        }
    }
    return $null
}

function Get-StepParameter {
    # A parameter of the step's action (the Params JSON text of the step table), or $Default.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step,
        [Parameter(Mandatory = $true)] [string]$Name,
        [AllowNull()] [object]$Default = $null,
        [switch]$Required
    )
    $parameters = ConvertFrom-Json -InputObject $Step.Params
    $property = $parameters.PSObject.Properties[$Name]
    # The unary comma keeps a one-element or empty array an array for the caller: assign the result, never wrap
    # it in @(), which would nest the array.
    if ($null -eq $property) {
        if ($Required) {
            throw ('step ' + $Step.Id + ': parameter ' + $Name + ' is missing')
        }
        return , $Default
    }
    return , $property.Value
}

function Test-StepParameter {
    # True when the step's parameters name $Name (even with an empty list or null as its value).
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step,
        [Parameter(Mandatory = $true)] [string]$Name
    )
    $parameters = ConvertFrom-Json -InputObject $Step.Params
    return ($null -ne $parameters.PSObject.Properties[$Name])
}

function Test-Elevated {
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    $identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal -ArgumentList $identity
    return $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
}

function Get-CurrentUserSid {
    [CmdletBinding()]
    [OutputType([string])]
    param()
    return [System.Security.Principal.WindowsIdentity]::GetCurrent().User.Value
}

# ---------------------------------------------------------------------------------------------------------------
# Run-time values: the backup folder, engine URLs, the docker executable

function Assert-BackupFolderPath {
    # The validated backup folder: a full local or UNC path, no '"', no control characters, no trailing '\'.
    # These rules make '"' + path + '"' a correct command-line argument (runbook-style 4.5) for every use below.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Path
    )
    $trimmed = $Path.TrimEnd([char[]]@([char]92))
    if ($trimmed.Length -eq 0) {
        throw 'BackupPath is empty'
    }
    foreach ($ch in $trimmed.ToCharArray()) {
        if ([int]$ch -lt 32 -or [int]$ch -eq 127 -or $ch -eq [char]34) {
            throw ('BackupPath ' + $trimmed + ': must not contain double quotes or control characters')
        }
    }
    if ($trimmed.IndexOfAny([System.IO.Path]::GetInvalidPathChars()) -ge 0 -or $trimmed.IndexOfAny([char[]]@('*', '?', '<', '>', '|')) -ge 0) {
        throw ('BackupPath ' + $trimmed + ': holds characters Windows does not allow in a path')
    }
    $isDrivePath = $trimmed -match '^[A-Za-z]:\\[^:]+$'
    $isUncPath = $trimmed -match '^\\\\[^\\:]+\\[^\\:]+(\\[^:]*)?$'
    if (-not ($isDrivePath -or $isUncPath)) {
        throw ('BackupPath ' + $trimmed + ': must be a full path such as D:\wsl2-migrate (not a drive root, no ":" after the drive)')
    }
    if ($trimmed -match '(^|\\)\.\.?(\\|$)') {
        throw ('BackupPath ' + $trimmed + ': must not contain "." or ".." segments')
    }
    return $trimmed
}

function Assert-EngineUrl {
    # An engine URL is pasted into the docker command line unquoted, so it may hold no blanks, quotes or controls.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Url,
        [Parameter(Mandatory = $true)] [string]$Name
    )
    if ($Url -notmatch '^(npipe|tcp|unix|ssh)://[\x21-\x7e]+$' -or $Url.IndexOfAny([char[]]@([char]34, [char]39, [char]96)) -ge 0) {
        throw ($Name + ' ' + $Url + ': expected an engine URL such as npipe:////./pipe/docker_engine (no spaces or quotes)')
    }
    return $Url
}

function Resolve-DockerExecutable {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [string]$Path
    )
    $command = Get-Command -Name $Path -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $command) {
        throw ('DockerPath ' + $Path + ': no such program (install Docker Desktop or pass -DockerPath)')
    }
    $full = $command.Source
    if ($full.IndexOf([char]34) -ge 0 -or $full.EndsWith([string][char]92)) {
        throw ('DockerPath ' + $full + ': unusable path')
    }
    return $full
}

function ConvertTo-QuotedArgument {
    # A validated run-time value (a path without '"' that does not end in '\') as one command-line argument.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [string]$Value
    )
    if ($Value.IndexOf([char]34) -ge 0 -or $Value.EndsWith([string][char]92) -or $Value.Length -eq 0) {
        throw ('cannot pass ' + $Value + ' as a command-line argument')
    }
    return ([string][char]34 + $Value + [string][char]34)
}

function Get-BackupItemPath {
    # A path inside the backup folder: rel uses '/' (as in the plan); '' is the folder itself.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Relative
    )
    if ($Relative.Length -eq 0) {
        return $script:BackupRoot
    }
    return $script:BackupRoot + '\' + $Relative.Replace('/', '\')
}

function Get-EngineUrl {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [string]$Engine
    )
    if (-not $script:Engines.ContainsKey($Engine)) {
        throw ('unknown engine ' + $Engine)
    }
    return $script:Engines[$Engine]
}

function Expand-WindowsPath {
    # %APPDATA%-style references in a path from the plan, expanded for the current user.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Path
    )
    return [System.Environment]::ExpandEnvironmentVariables($Path)
}

# ---------------------------------------------------------------------------------------------------------------
# Files: every text file is written by Write-Utf8FileAtomic (UTF-8 without BOM, temp file + Flush + Replace)

function Write-BytesFileAtomic {
    # Writes a temp file in the same folder, flushes it to disk, then swaps it in with File.Replace (or Move).
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string]$Path,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [byte[]]$Bytes,
        [switch]$KeepBackup
    )
    $folder = [System.IO.Path]::GetDirectoryName($Path)
    $temp = [System.IO.Path]::Combine($folder, '.' + [System.IO.Path]::GetFileName($Path) + '.' + [guid]::NewGuid().ToString('N') + '.tmp')
    $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $temp, ([System.IO.FileMode]::CreateNew), ([System.IO.FileAccess]::Write), ([System.IO.FileShare]::None)
    try {
        $stream.Write($Bytes, 0, $Bytes.Length)
        $stream.Flush($true)
    } finally {
        $stream.Dispose()
    }
    if ([System.IO.File]::Exists($Path) -and $KeepBackup) {
        [System.IO.File]::Replace($temp, $Path, $Path + '.bak')
    } elseif ([System.IO.File]::Exists($Path)) {
        # PowerShell passes $null to a .NET string parameter as ''; NullString passes a real null (no backup file).
        [System.IO.File]::Replace($temp, $Path, [System.Management.Automation.Language.NullString]::Value)
    } else {
        [System.IO.File]::Move($temp, $Path)
    }
}

function Write-Utf8FileAtomic {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string]$Path,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Text,
        [switch]$KeepBackup
    )
    Write-BytesFileAtomic -Path $Path -Bytes $script:Utf8NoBom.GetBytes($Text) -KeepBackup:$KeepBackup
}

function Read-TextFile {
    # Text of a file; a BOM (UTF-8, UTF-16) is honoured, otherwise UTF-8 (never the ANSI code page).
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [string]$Path
    )
    return [System.IO.File]::ReadAllText($Path, $script:Utf8NoBom)
}

function Read-JsonDocument {
    # A JSON file written by Write-Utf8FileAtomic -KeepBackup; falls back to its .bak copy when it is unreadable.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string]$Path
    )
    foreach ($candidate in @($Path, ($Path + '.bak'))) {
        if (-not [System.IO.File]::Exists($candidate)) {
            continue
        }
        try {
            $document = ConvertFrom-Json -InputObject (Read-TextFile -Path $candidate)
            if ($null -ne $document) {
                if ($candidate -ne $Path) {
                    Write-Warning -Message ($Path + ' was unreadable; using ' + $candidate)
                }
                return $document
            }
        } catch {
            $problem = $_
            Write-Warning -Message ($candidate + ': ' + $problem.Exception.Message)
        }
    }
    return $null
}

function Get-BytesSha256 {
    # SHA-256 of bytes in memory, lower-case hex (as Get-FileHash gives for a file, lower-cased).
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [byte[]]$Bytes
    )
    $algorithm = [System.Security.Cryptography.SHA256]::Create()
    try {
        $digest = $algorithm.ComputeHash($Bytes)
    } finally {
        $algorithm.Dispose()
    }
    return ([System.BitConverter]::ToString($digest) -replace '-', '').ToLowerInvariant()
}

function Save-FileSnapshot {
    # The bytes of a file just before the runbook changes it, kept in the backup folder's edits\ (never overwritten)
    # and hashed: the copy must hash like the bytes read, or the change does not go ahead.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [string]$Path,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [byte[]]$Bytes,
        [Parameter(Mandatory = $true)] [string]$Folder
    )
    $directory = Get-BackupItemPath -Relative $Folder
    [void][System.IO.Directory]::CreateDirectory($directory)
    $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMdd-HHmmss-fff', $script:Invariant)
    $target = [System.IO.Path]::Combine($directory, $stamp + '-' + [System.IO.Path]::GetFileName($Path))
    [System.IO.File]::WriteAllBytes($target, $Bytes)
    $sha = Get-BytesSha256 -Bytes $Bytes
    $copySha = (Get-FileHash -LiteralPath $target -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($copySha -ne $sha) {
        throw ('the copy of ' + $Path + ' in ' + $target + ' does not hash like the original: nothing was changed')
    }
    Write-RunbookLog -Message ('saved the current ' + $Path + ' as ' + $target + ' (sha256 ' + $sha + ')')
    return $target
}

# ---------------------------------------------------------------------------------------------------------------
# Native programs: the only place that starts one

function Invoke-NativeProcess {
    # Starts FilePath with the Arguments string as it is: .NET passes it verbatim on 5.1 and 7.x (runbook-style
    # 4.6 B), so the logged line is exactly what the program splits. Both pipes are read asynchronously as UTF-8.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string]$FilePath,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Arguments,
        [Parameter(Mandatory = $true)] [string]$StepId,
        [AllowEmptyString()] [string]$WorkingDirectory = '',
        [int[]]$OkExitCodes = @(0),
        [int]$TimeoutSeconds = 0,
        [switch]$NoThrow
    )
    Write-RunbookLog -StepId $StepId -Message ('run: ' + (ConvertTo-QuotedArgument -Value $FilePath) + ' ' + $Arguments)
    $startInfo = New-Object -TypeName System.Diagnostics.ProcessStartInfo
    $startInfo.FileName = $FilePath
    $startInfo.Arguments = $Arguments
    $startInfo.UseShellExecute = $false
    $startInfo.CreateNoWindow = $true
    $startInfo.RedirectStandardInput = $true
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.StandardOutputEncoding = $script:Utf8NoBom
    $startInfo.StandardErrorEncoding = $script:Utf8NoBom
    if ($WorkingDirectory.Length -gt 0) {
        $startInfo.WorkingDirectory = $WorkingDirectory
    }
    $process = New-Object -TypeName System.Diagnostics.Process
    $process.StartInfo = $startInfo
    $timedOut = $false
    try {
        [void]$process.Start()
        $process.StandardInput.Close()
        # Reading one pipe to its end before the other can deadlock when the other fills up.
        $stdoutTask = $process.StandardOutput.ReadToEndAsync()
        $stderrTask = $process.StandardError.ReadToEndAsync()
        if ($TimeoutSeconds -gt 0 -and -not $process.WaitForExit($TimeoutSeconds * 1000)) {
            $timedOut = $true
            try {
                $process.Kill()
            } catch {
                Write-RunbookLog -StepId $StepId -Message ('could not end the timed-out process: ' + $_.Exception.Message)
            }
        }
        $process.WaitForExit()
        $stdout = $stdoutTask.GetAwaiter().GetResult()
        $stderr = $stderrTask.GetAwaiter().GetResult()
        $exitCode = $process.ExitCode
    } finally {
        $process.Dispose()
    }
    Write-RunbookLog -StepId $StepId -Message ('exit code ' + $exitCode)
    $result = [pscustomobject]@{
        ExitCode = $exitCode
        StdOut   = $stdout
        StdErr   = $stderr
        TimedOut = $timedOut
    }
    if (-not $NoThrow) {
        $program = [System.IO.Path]::GetFileName($FilePath)
        if ($timedOut) {
            throw ('step ' + $StepId + ': ' + $program + ' did not finish within ' + $TimeoutSeconds + ' s: ' + (Get-TextTail -Text $stderr))
        }
        if ($OkExitCodes -notcontains $exitCode) {
            throw ('step ' + $StepId + ': ' + $program + ' exited with code ' + $exitCode + ': ' + (Get-TextTail -Text $stderr))
        }
    }
    return $result
}

function Resolve-CommandLine {
    # Joins the pre-encoded segments of a step; @{ Backup = 'rel' } markers become paths in the backup folder.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]]$Segments
    )
    $builder = New-Object -TypeName System.Text.StringBuilder
    foreach ($segment in $Segments) {
        if ($segment -is [System.Collections.IDictionary]) {
            [void]$builder.Append((Get-BackupItemPath -Relative $segment['Backup']))
        } else {
            [void]$builder.Append([string]$segment)
        }
    }
    return $builder.ToString()
}

function Invoke-DockerCommand {
    # docker --host <engine URL> <pre-encoded command line>; Engine '' leaves out --host (docker desktop ...).
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Engine,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]]$Segments,
        [Parameter(Mandatory = $true)] [string]$StepId,
        [AllowEmptyString()] [string]$WorkingDirectory = '',
        [int[]]$OkExitCodes = @(0),
        [int]$TimeoutSeconds = 0,
        [switch]$NoThrow
    )
    $arguments = Resolve-CommandLine -Segments $Segments
    if ($Engine.Length -gt 0) {
        $arguments = '--host ' + (Get-EngineUrl -Engine $Engine) + ' ' + $arguments
    }
    $splatProcess = @{
        FilePath         = $script:DockerExe
        Arguments        = $arguments
        StepId           = $StepId
        WorkingDirectory = $WorkingDirectory
        OkExitCodes      = $OkExitCodes
        TimeoutSeconds   = $TimeoutSeconds
        NoThrow          = $NoThrow
    }
    return Invoke-NativeProcess @splatProcess
}

# ---------------------------------------------------------------------------------------------------------------
# Journal (checkpoints) and artifact manifest

function Import-Journal {
    # Reads journal.json (or its .bak); refuses a journal written for a different plan.
    [CmdletBinding()]
    param()
    $script:Journal = @{
        Exists            = $false
        RebootRequired    = $false
        WslShutdownNeeded = $false
        BackupsVerified   = $null
        BackupsVerifiedAt = ''
        Steps             = @{}
        Rollbacks         = New-Object -TypeName 'System.Collections.Generic.List[string]'
    }
    $document = Read-JsonDocument -Path (Get-BackupItemPath -Relative 'journal.json')
    if ($null -eq $document) {
        return
    }
    $planHash = [string](Get-JsonProperty -Object $document -Name 'planHash' -Default '')
    if ($planHash -ne $script:PlanHash) {
        throw ('journal.json in ' + $script:BackupRoot + ' belongs to plan ' + $planHash + ', this runbook is plan ' + $script:PlanHash + ': use another -BackupPath')
    }
    $script:Journal.Exists = $true
    $script:Journal.RebootRequired = [bool](Get-JsonProperty -Object $document -Name 'rebootRequired' -Default $false)
    $script:Journal.WslShutdownNeeded = [bool](Get-JsonProperty -Object $document -Name 'wslShutdownNeeded' -Default $false)
    $verified = Get-JsonProperty -Object $document -Name 'backupsVerified'
    if ($null -ne $verified) {
        $map = @{}
        foreach ($item in (Get-JsonProperty -Object $verified -Name 'artifacts' -Default @())) {
            $map[[string]$item.path] = [string]$item.sha256
        }
        $script:Journal.BackupsVerified = $map
        $script:Journal.BackupsVerifiedAt = [string](Get-JsonProperty -Object $verified -Name 'at' -Default '')
    }
    foreach ($item in (Get-JsonProperty -Object $document -Name 'steps' -Default @())) {
        $script:Journal.Steps[[string]$item.id] = @{
            Status    = [string](Get-JsonProperty -Object $item -Name 'status' -Default 'pending')
            StartedAt = [string](Get-JsonProperty -Object $item -Name 'startedAt' -Default '')
            EndedAt   = [string](Get-JsonProperty -Object $item -Name 'endedAt' -Default '')
            Attempt   = [int](Get-JsonProperty -Object $item -Name 'attempt' -Default 0)
            Notes     = [string](Get-JsonProperty -Object $item -Name 'notes' -Default '')
        }
    }
    foreach ($item in (Get-JsonProperty -Object $document -Name 'rollbacks' -Default @())) {
        $script:Journal.Rollbacks.Add([string]$item)
    }
}

function Save-Journal {
    # Atomic write with a .bak; under -WhatIf the journal is only read.
    [CmdletBinding()]
    param()
    if ($script:DryRun) {
        return
    }
    $steps = New-Object -TypeName 'System.Collections.Generic.List[object]'
    foreach ($id in ($script:Journal.Steps.Keys | Sort-Object)) {
        $entry = $script:Journal.Steps[$id]
        $steps.Add([ordered]@{
                id        = $id
                status    = $entry.Status
                startedAt = $entry.StartedAt
                endedAt   = $entry.EndedAt
                attempt   = $entry.Attempt
                notes     = $entry.Notes
            })
    }
    $verified = $null
    if ($null -ne $script:Journal.BackupsVerified) {
        $items = New-Object -TypeName 'System.Collections.Generic.List[object]'
        foreach ($path in ($script:Journal.BackupsVerified.Keys | Sort-Object)) {
            $items.Add([ordered]@{ path = $path; sha256 = $script:Journal.BackupsVerified[$path] })
        }
        $verified = [ordered]@{ at = $script:Journal.BackupsVerifiedAt; artifacts = $items.ToArray() }
    }
    $document = [ordered]@{
        format            = $script:JournalFormat
        planHash          = $script:PlanHash
        toolVersion       = $script:ToolVersion
        rebootRequired    = $script:Journal.RebootRequired
        wslShutdownNeeded = $script:Journal.WslShutdownNeeded
        backupsVerified   = $verified
        steps             = $steps.ToArray()
        rollbacks         = $script:Journal.Rollbacks.ToArray()
    }
    [void][System.IO.Directory]::CreateDirectory($script:BackupRoot)
    $text = ConvertTo-Json -InputObject $document -Depth 10
    Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative 'journal.json') -Text $text -KeepBackup
    $script:Journal.Exists = $true
}

function Get-JournalStepStatus {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [string]$Id
    )
    if ($script:Journal.Steps.ContainsKey($Id)) {
        return $script:Journal.Steps[$Id].Status
    }
    return 'pending'
}

function Write-JournalStep {
    # Records a step's state (pending, running, done, failed); bookkeeping, so no prompt; a no-op under -WhatIf.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string]$Id,
        [Parameter(Mandatory = $true)] [string]$Status,
        [AllowEmptyString()] [string]$Notes = ''
    )
    if ($script:DryRun) {
        return
    }
    if (-not $script:Journal.Steps.ContainsKey($Id)) {
        $script:Journal.Steps[$Id] = @{ Status = 'pending'; StartedAt = ''; EndedAt = ''; Attempt = 0; Notes = '' }
    }
    $entry = $script:Journal.Steps[$Id]
    $entry.Status = $Status
    if ($Status -eq 'running') {
        $entry.StartedAt = Get-TimeStamp
        $entry.EndedAt = ''
        $entry.Attempt = $entry.Attempt + 1
    } else {
        $entry.EndedAt = Get-TimeStamp
    }
    $entry.Notes = $Notes
    Save-Journal
}

function Import-ArtifactManifest {
    [CmdletBinding()]
    param()
    $script:Artifacts = @{}
    $document = Read-JsonDocument -Path (Get-BackupItemPath -Relative 'artifacts.json')
    if ($null -eq $document) {
        return
    }
    foreach ($item in (Get-JsonProperty -Object $document -Name 'artifacts' -Default @())) {
        $script:Artifacts[[string]$item.path] = @{
            Path       = [string]$item.path
            Kind       = [string](Get-JsonProperty -Object $item -Name 'kind' -Default '')
            Subject    = [string](Get-JsonProperty -Object $item -Name 'subject' -Default '')
            Step       = [string](Get-JsonProperty -Object $item -Name 'step' -Default '')
            Size       = [long](Get-JsonProperty -Object $item -Name 'size' -Default 0)
            Sha256     = [string](Get-JsonProperty -Object $item -Name 'sha256' -Default '')
            Tar        = [bool](Get-JsonProperty -Object $item -Name 'tar' -Default $false)
            TarEntries = [long](Get-JsonProperty -Object $item -Name 'tarEntries' -Default 0)
            TarBytes   = [long](Get-JsonProperty -Object $item -Name 'tarBytes' -Default 0)
            Secret     = [bool](Get-JsonProperty -Object $item -Name 'secret' -Default $false)
        }
    }
}

function Save-ArtifactManifest {
    [CmdletBinding()]
    param()
    if ($script:DryRun) {
        return
    }
    $items = New-Object -TypeName 'System.Collections.Generic.List[object]'
    foreach ($path in ($script:Artifacts.Keys | Sort-Object)) {
        $a = $script:Artifacts[$path]
        $items.Add([ordered]@{
                path       = $a.Path
                kind       = $a.Kind
                subject    = $a.Subject
                step       = $a.Step
                size       = $a.Size
                sha256     = $a.Sha256
                tar        = $a.Tar
                tarEntries = $a.TarEntries
                tarBytes   = $a.TarBytes
                secret     = $a.Secret
            })
    }
    $document = [ordered]@{
        format    = $script:ArtifactFormat
        planHash  = $script:PlanHash
        artifacts = $items.ToArray()
    }
    $text = ConvertTo-Json -InputObject $document -Depth 10
    Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative 'artifacts.json') -Text $text -KeepBackup
}

function Measure-BackupArtifact {
    # Size, SHA-256 and, for tar archives, entry count and regular-file bytes of one file in the backup folder.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string]$Relative,
        [switch]$Tar
    )
    $path = Get-BackupItemPath -Relative $Relative
    if (-not [System.IO.File]::Exists($path)) {
        throw ('artifact ' + $Relative + ' was not written (' + $path + ')')
    }
    $facts = @{
        Size       = (New-Object -TypeName System.IO.FileInfo -ArgumentList $path).Length
        Sha256     = (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant()
        TarEntries = [long]0
        TarBytes   = [long]0
    }
    if ($Tar) {
        $counts = Measure-TarArchive -Path $path
        $facts.TarEntries = $counts.Entries
        $facts.TarBytes = $counts.RegularBytes
    }
    return $facts
}

function Save-StepArtifact {
    # Records what a step produced in artifacts.json (sizes and hashes only, never content).
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step,
        [Parameter(Mandatory = $true)] [hashtable]$Artifact
    )
    $facts = Measure-BackupArtifact -Relative $Artifact.Path -Tar:$Artifact.Tar
    $script:Artifacts[$Artifact.Path] = @{
        Path       = $Artifact.Path
        Kind       = $Artifact.Kind
        Subject    = $Artifact.Subject
        Step       = $Step.Id
        Size       = $facts.Size
        Sha256     = $facts.Sha256
        Tar        = [bool]$Artifact.Tar
        TarEntries = $facts.TarEntries
        TarBytes   = $facts.TarBytes
        Secret     = [bool]$Artifact.Secret
    }
    $detail = $Artifact.Path + ': ' + $facts.Size + ' bytes'
    if ($Artifact.Tar) {
        $detail += ', ' + $facts.TarEntries + ' tar entries'
    }
    Write-RunbookLog -StepId $Step.Id -Message ('artifact ' + $detail)
    Add-StepNote -Text $detail
}

# ---------------------------------------------------------------------------------------------------------------
# Tar archives: entries counted from the headers (data blocks are skipped with Seek, never read)

function Get-TarNumber {
    # A numeric header field: octal text, or GNU base-256 when the first byte has its high bit set.
    [CmdletBinding()]
    [OutputType([long])]
    param(
        [Parameter(Mandatory = $true)] [byte[]]$Header,
        [Parameter(Mandatory = $true)] [int]$Offset,
        [Parameter(Mandatory = $true)] [int]$Length
    )
    $first = $Header[$Offset]
    if (($first -band 0x80) -ne 0) {
        if ($first -eq 0xFF) {
            throw 'negative base-256 number in a tar header'
        }
        [long]$value = $first -band 0x7F
        for ($i = 1; $i -lt $Length; $i++) {
            $value = $value * 256 + $Header[$Offset + $i]
        }
        return $value
    }
    $text = [System.Text.Encoding]::ASCII.GetString($Header, $Offset, $Length)
    $end = $text.IndexOf([char]0)
    if ($end -ge 0) {
        $text = $text.Substring(0, $end)
    }
    $text = $text.Trim()
    if ($text.Length -eq 0) {
        return [long]0
    }
    return [System.Convert]::ToInt64($text, 8)
}

function Test-TarChecksum {
    # The header checksum counts its own field as spaces; old writers summed signed bytes, so accept both.
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [byte[]]$Header,
        [Parameter(Mandatory = $true)] [long]$ByteSum
    )
    $expected = Get-TarNumber -Header $Header -Offset 148 -Length 8
    [long]$unsigned = $ByteSum + 8 * 32
    for ($i = 148; $i -lt 156; $i++) {
        $unsigned -= $Header[$i]
    }
    if ($expected -eq $unsigned) {
        return $true
    }
    [long]$signed = $unsigned
    for ($i = 0; $i -lt 512; $i++) {
        if ($Header[$i] -gt 127 -and ($i -lt 148 -or $i -ge 156)) {
            $signed -= 256
        }
    }
    return ($expected -eq $signed)
}

function Get-HeaderText {
    # A NUL-terminated text field of a tar header.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [byte[]]$Header,
        [Parameter(Mandatory = $true)] [int]$Offset,
        [Parameter(Mandatory = $true)] [int]$Length
    )
    $text = $script:Utf8NoBom.GetString($Header, $Offset, $Length)
    $end = $text.IndexOf([char]0)
    if ($end -ge 0) {
        $text = $text.Substring(0, $end)
    }
    return $text
}

function Get-PaxSize {
    # The 'size' record of a pax extended header ("<length> size=<n>\n" records), or -1 when it has none.
    [CmdletBinding()]
    [OutputType([long])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [byte[]]$Data
    )
    $text = $script:Utf8NoBom.GetString($Data)
    $size = [long]-1
    foreach ($record in $text.Split([char]10)) {
        $match = [regex]::Match($record, '^\d+ size=(\d+)$')
        if ($match.Success) {
            $size = [long]::Parse($match.Groups[1].Value, $script:Invariant)
        }
    }
    return $size
}

function Read-TarBlock {
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory = $true)] [System.IO.Stream]$Stream,
        [Parameter(Mandatory = $true)] [byte[]]$Buffer
    )
    $total = 0
    while ($total -lt $Buffer.Length) {
        $read = $Stream.Read($Buffer, $total, $Buffer.Length - $total)
        if ($read -eq 0) {
            break
        }
        $total += $read
    }
    return $total
}

function Measure-TarArchive {
    # Entries and regular-file bytes of a tar file, counted the way Python's tarfile lists members:
    # pax 'x'/'g'/'X' headers and GNU 'L'/'K' long names are metadata of the next entry, not entries; a pax 'size'
    # overrides the header's; hard links, symlinks, devices, FIFOs and directories carry no data blocks;
    # regular files are types '0', NUL (unless the name ends with '/') and '7'; GNU sparse 'S' counts its real size.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string]$Path
    )
    $stream = [System.IO.File]::Open($Path, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, [System.IO.FileShare]::Read)
    try {
        $header = New-Object -TypeName 'byte[]' -ArgumentList 512
        [long]$entries = 0
        [long]$bytes = 0
        [long]$paxSize = -1
        $longName = $null
        while ($true) {
            $read = Read-TarBlock -Stream $stream -Buffer $header
            if ($read -eq 0) {
                break
            }
            if ($read -lt 512) {
                throw ($Path + ': truncated tar header at byte ' + ($stream.Position - $read))
            }
            # Summed by LINQ: a PowerShell loop over 512 bytes per entry is too slow for volumes with many files.
            $sum = [System.Linq.Enumerable]::Sum([int[]]$header)
            if ($sum -eq 0) {
                break
            }
            if (-not (Test-TarChecksum -Header $header -ByteSum $sum)) {
                throw ($Path + ': bad tar header checksum at byte ' + ($stream.Position - 512))
            }
            $type = [char]$header[156]
            $size = Get-TarNumber -Header $header -Offset 124 -Length 12
            $padded = [long]([math]::Ceiling($size / 512.0) * 512)
            if ('x', 'g', 'X', 'L', 'K' -ccontains [string]$type) {
                $data = New-Object -TypeName 'byte[]' -ArgumentList $padded
                if ((Read-TarBlock -Stream $stream -Buffer $data) -lt $padded) {
                    throw ($Path + ': truncated tar extended header')
                }
                $payload = New-Object -TypeName 'byte[]' -ArgumentList $size
                [System.Array]::Copy($data, $payload, $size)
                if ($type -ceq 'x' -or $type -ceq 'X') {
                    $paxSize = Get-PaxSize -Data $payload
                } elseif ($type -ceq 'L') {
                    $longName = $script:Utf8NoBom.GetString($payload).TrimEnd([char]0)
                }
                continue
            }
            $name = $longName
            if ($null -eq $name) {
                $name = Get-HeaderText -Header $header -Offset 0 -Length 100
            }
            $longName = $null
            $effective = $size
            if ($paxSize -ge 0) {
                $effective = $paxSize
                $paxSize = -1
            }
            $entries++
            $code = [int]$header[156]
            $isRegular = ($type -ceq '0' -or $type -ceq '7' -or ($code -eq 0 -and -not $name.EndsWith('/')))
            $noData = ('1', '2', '3', '4', '5', '6' -ccontains [string]$type) -or ($code -eq 0 -and $name.EndsWith('/'))
            if ($type -ceq 'S') {
                $bytes += Get-TarNumber -Header $header -Offset 483 -Length 12
            } elseif ($isRegular) {
                $bytes += $effective
            }
            if (-not $noData) {
                $skip = [long]([math]::Ceiling($effective / 512.0) * 512)
                if ($type -ceq 'S') {
                    $skip = $padded
                }
                [void]$stream.Seek($skip, [System.IO.SeekOrigin]::Current)
                if ($stream.Position -gt $stream.Length) {
                    throw ($Path + ': truncated tar data')
                }
            }
        }
    } finally {
        $stream.Dispose()
    }
    return @{ Entries = $entries; RegularBytes = $bytes }
}

# ---------------------------------------------------------------------------------------------------------------
# JSON settings files (runbook-style 7): Docker Desktop stopped, bytes kept, named keys only, verified, rolled back

function Test-JsonValueEqual {
    # Deep equality of two ConvertFrom-Json values: objects by exact key set, arrays in order, strings by case.
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [AllowNull()] [object]$Left,
        [AllowNull()] [object]$Right
    )
    if ($null -eq $Left -or $null -eq $Right) {
        return ($null -eq $Left -and $null -eq $Right)
    }
    $leftObject = $Left -is [System.Management.Automation.PSCustomObject]
    $rightObject = $Right -is [System.Management.Automation.PSCustomObject]
    if ($leftObject -or $rightObject) {
        if (-not ($leftObject -and $rightObject)) {
            return $false
        }
        $leftProperties = @($Left.PSObject.Properties)
        if ($leftProperties.Count -ne @($Right.PSObject.Properties).Count) {
            return $false
        }
        foreach ($property in $leftProperties) {
            $other = Find-JsonProperty -Object $Right -Name $property.Name -Exact
            if ($null -eq $other -or -not (Test-JsonValueEqual -Left $property.Value -Right $other.Value)) {
                return $false
            }
        }
        return $true
    }
    if ($Left -is [System.Array] -or $Right -is [System.Array]) {
        if (-not ($Left -is [System.Array] -and $Right -is [System.Array]) -or $Left.Length -ne $Right.Length) {
            return $false
        }
        for ($i = 0; $i -lt $Left.Length; $i++) {
            if (-not (Test-JsonValueEqual -Left $Left[$i] -Right $Right[$i])) {
                return $false
            }
        }
        return $true
    }
    if ($Left -is [string] -or $Right -is [string]) {
        return ($Left -is [string] -and $Right -is [string] -and $Left -ceq $Right)
    }
    if ($Left -is [bool] -or $Right -is [bool]) {
        return ($Left -is [bool] -and $Right -is [bool] -and $Left -eq $Right)
    }
    if ($Left -is [datetime] -or $Right -is [datetime]) {
        return ($Left -is [datetime] -and $Right -is [datetime] -and $Left.Equals($Right))
    }
    try {
        return ([decimal]$Left -eq [decimal]$Right)
    } catch {
        return ([double]$Left -eq [double]$Right)
    }
}

function Assert-DesktopStopped {
    # Under -WhatIf the earlier stop did not happen, so a running Docker Desktop is only reported.
    [CmdletBinding()]
    param()
    $running = @(Get-Process -Name $script:DesktopProcessNames -ErrorAction SilentlyContinue)
    if ($running.Count -gt 0 -and $script:DryRun) {
        Write-Warning -Message 'Docker Desktop is running; the real run stops it before editing settings'
    } elseif ($running.Count -gt 0) {
        throw ('Docker Desktop is running (' + (($running | ForEach-Object -Process { $_.ProcessName } | Sort-Object -Unique) -join ', ') + '): its settings may only be edited while it is stopped')
    }
}

function Get-JsonEditProblem {
    # Why a written settings file is not the original with exactly the intended changes, or '' when it is.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [object]$Original,
        [AllowNull()] [object]$Written,
        [AllowNull()] [object]$Set,
        [AllowEmptyCollection()] [string[]]$Remove = @(),
        [switch]$ExactKeys
    )
    if (-not ($Written -is [System.Management.Automation.PSCustomObject])) {
        return 'the written file is not a JSON object'
    }
    $touched = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::OrdinalIgnoreCase)
    if ($null -ne $Set) {
        foreach ($entry in $Set.PSObject.Properties) {
            [void]$touched.Add($entry.Name)
            $now = Find-JsonProperty -Object $Written -Name $entry.Name -Exact:$ExactKeys
            if ($null -eq $now -or -not (Test-JsonValueEqual -Left $now.Value -Right $entry.Value)) {
                return ('key ' + $entry.Name + ' does not hold the new value')
            }
        }
    }
    foreach ($name in $Remove) {
        [void]$touched.Add($name)
        if ($null -ne (Find-JsonProperty -Object $Written -Name $name -Exact)) {
            return ('key ' + $name + ' is still there')
        }
    }
    foreach ($property in $Original.PSObject.Properties) {
        if ($touched.Contains($property.Name)) {
            continue
        }
        $now = Find-JsonProperty -Object $Written -Name $property.Name -Exact
        if ($null -eq $now) {
            return ('key ' + $property.Name + ' was lost')
        }
        if (-not (Test-JsonValueEqual -Left $property.Value -Right $now.Value)) {
            return ('key ' + $property.Name + ' changed')
        }
    }
    foreach ($property in $Written.PSObject.Properties) {
        if (-not $touched.Contains($property.Name) -and $null -eq (Find-JsonProperty -Object $Original -Name $property.Name -Exact)) {
            return ('key ' + $property.Name + ' appeared')
        }
    }
    return ''
}

function Update-JsonFile {
    # Sets and removes top-level keys of a JSON settings file and keeps every other key as it was (runbook-style 7:
    # bytes kept and hashed, -Depth 100, UTF-8 without BOM, atomic, re-read and compared, rolled back).
    # -ExactKeys: a key is only the one named exactly (dockerd refuses a key it does not know, matched
    # case-sensitively), so a set key replaces one differing only in case. -CreateMissing: a missing file starts as
    # {} and, when the result is wrong, is moved into the backup folder's edits\ (as it did not exist before).
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [string]$Path,
        [AllowNull()] [object]$Set = $null,
        [AllowEmptyCollection()] [string[]]$Remove = @(),
        [switch]$PascalCaseNewKeys,
        [switch]$ExactKeys,
        [switch]$CreateMissing,
        [Parameter(Mandatory = $true)] [string]$StepId
    )
    Assert-DesktopStopped
    $exists = [System.IO.File]::Exists($Path)
    $originalBytes = New-Object -TypeName 'byte[]' -ArgumentList 0
    $originalText = '{}'
    if ($exists) {
        $originalBytes = [System.IO.File]::ReadAllBytes($Path)
        $originalText = Read-TextFile -Path $Path
    } elseif (-not $CreateMissing) {
        throw ($Path + ' does not exist')
    }
    $originalSha = Get-BytesSha256 -Bytes $originalBytes
    $original = ConvertFrom-Json -InputObject $originalText
    if (-not ($original -is [System.Management.Automation.PSCustomObject])) {
        throw ($Path + ': not a JSON object')
    }
    # A second parse is edited; the first stays untouched for the comparison after writing.
    $edited = ConvertFrom-Json -InputObject $originalText
    $changed = New-Object -TypeName 'System.Collections.Generic.List[string]'
    if ($null -ne $Set) {
        foreach ($entry in $Set.PSObject.Properties) {
            $existing = Find-JsonProperty -Object $edited -Name $entry.Name -Exact:$ExactKeys
            if ($null -eq $existing) {
                $name = $entry.Name
                $other = Find-JsonProperty -Object $edited -Name $name
                if ($null -ne $other) {
                    # Only with -ExactKeys: one object cannot hold two keys differing only in case.
                    $edited.PSObject.Properties.Remove($other.Name)
                    $changed.Add('-' + $other.Name)
                } elseif ($PascalCaseNewKeys) {
                    $name = $name.Substring(0, 1).ToUpperInvariant() + $name.Substring(1)
                }
                Add-Member -InputObject $edited -MemberType NoteProperty -Name $name -Value $entry.Value
                $changed.Add($name)
            } elseif (-not (Test-JsonValueEqual -Left $existing.Value -Right $entry.Value)) {
                $existing.Value = $entry.Value
                $changed.Add($existing.Name)
            }
        }
    }
    foreach ($name in $Remove) {
        $existing = Find-JsonProperty -Object $edited -Name $name -Exact
        if ($null -ne $existing) {
            $edited.PSObject.Properties.Remove($existing.Name)
            $changed.Add('-' + $existing.Name)
        }
    }
    if ($changed.Count -eq 0) {
        Add-StepNote -Text ($Path + ' already as planned')
        return
    }
    $action = 'Change keys '
    if (-not $exists) {
        $action = 'Create with keys '
    }
    if (-not $PSCmdlet.ShouldProcess($Path, $action + ($changed -join ', '))) {
        $script:StepDeclined = $true
        return
    }
    if ($exists) {
        [void](Save-FileSnapshot -Path $Path -Bytes $originalBytes -Folder 'edits')
    } else {
        [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($Path))
    }
    $text = ConvertTo-Json -InputObject $edited -Depth 100
    Write-Utf8FileAtomic -Path $Path -Text $text
    $problem = ''
    try {
        $written = ConvertFrom-Json -InputObject (Read-TextFile -Path $Path)
        $problem = Get-JsonEditProblem -Original $original -Written $written -Set $Set -Remove $Remove -ExactKeys:$ExactKeys
    } catch {
        $problem = 'cannot read it back: ' + $_.Exception.Message
    }
    if ($problem.Length -gt 0) {
        if ($exists) {
            Write-BytesFileAtomic -Path $Path -Bytes $originalBytes
            $restored = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
            if ($restored -ne $originalSha) {
                throw ('step ' + $StepId + ': ' + $Path + ': ' + $problem + '; putting the original back failed too: restore it from the backup folder (edits, sha256 ' + $originalSha + ')')
            }
            throw ('step ' + $StepId + ': ' + $Path + ': ' + $problem + '; the original file was put back')
        }
        $aside = Get-BackupItemPath -Relative 'edits'
        [void][System.IO.Directory]::CreateDirectory($aside)
        $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMdd-HHmmss-fff', $script:Invariant)
        [System.IO.File]::Move($Path, [System.IO.Path]::Combine($aside, $stamp + '-failed-' + [System.IO.Path]::GetFileName($Path)))
        throw ('step ' + $StepId + ': ' + $Path + ': ' + $problem + '; the file did not exist before and was moved into ' + $aside)
    }
    Write-RunbookLog -StepId $StepId -Message ('changed ' + ($changed -join ', ') + ' in ' + $Path + ' (was sha256 ' + $originalSha + ')')
    Add-StepNote -Text ('changed ' + ($changed -join ', ') + ' in ' + $Path)
}

function Get-DesktopSettingsPath {
    # Docker Desktop 4.35+ reads settings-store.json; older versions settings.json (both may exist after upgrades).
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowEmptyString()] [string]$FileName = ''
    )
    $folder = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('ApplicationData'), 'Docker')
    if ($FileName.Length -gt 0) {
        return [System.IO.Path]::Combine($folder, $FileName)
    }
    $store = [System.IO.Path]::Combine($folder, 'settings-store.json')
    if ([System.IO.File]::Exists($store)) {
        return $store
    }
    return [System.IO.Path]::Combine($folder, 'settings.json')
}

function Get-SettingsFileSet {
    # The files behind each symbolic name of a backup-file step, and where their copies go.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string]$Name
    )
    $appData = [System.Environment]::GetFolderPath('ApplicationData')
    $profileDir = [System.Environment]::GetFolderPath('UserProfile')
    $programData = [System.Environment]::GetFolderPath('CommonApplicationData')
    switch ($Name) {
        'desktop-settings' {
            return @(
                @{ Path = [System.IO.Path]::Combine($appData, 'Docker', 'settings-store.json'); Backup = 'settings/desktop/settings-store.json' },
                @{ Path = [System.IO.Path]::Combine($appData, 'Docker', 'settings.json'); Backup = 'settings/desktop/settings.json' }
            )
        }
        'daemon-linux' {
            return @(
                @{ Path = [System.IO.Path]::Combine($profileDir, '.docker', 'daemon.json'); Backup = 'settings/daemon-linux/daemon.json' }
            )
        }
        'daemon-windows' {
            return @(
                @{ Path = [System.IO.Path]::Combine($programData, 'Docker', 'config', 'daemon.json'); Backup = 'settings/daemon-windows/daemon.json' },
                @{ Path = [System.IO.Path]::Combine($profileDir, '.docker', 'windows-daemon.json'); Backup = 'settings/daemon-windows/windows-daemon.json' }
            )
        }
        'wslconfig' {
            return @(
                @{ Path = [System.IO.Path]::Combine($profileDir, '.wslconfig'); Backup = 'settings/wslconfig/wslconfig' }
            )
        }
        'admin-settings' {
            return @(
                @{ Path = [System.IO.Path]::Combine($programData, 'DockerDesktop', 'admin-settings.json'); Backup = 'settings/admin/admin-settings.json' }
            )
        }
        default {
            throw ('unknown settings file set ' + $Name)
        }
    }
}

# ---------------------------------------------------------------------------------------------------------------
# .wslconfig (INI): merge keys into [wsl2], keep every other line byte for byte

function ConvertFrom-IniText {
    # Every key line as (section, key, value), sections and keys lower-cased, in file order.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Text
    )
    $entries = New-Object -TypeName 'System.Collections.Generic.List[object]'
    $section = ''
    foreach ($line in [regex]::Split($Text, '\r?\n')) {
        $header = [regex]::Match($line, '^\s*\[([^\]]*)\]\s*$')
        if ($header.Success) {
            $section = $header.Groups[1].Value.Trim().ToLowerInvariant()
            continue
        }
        $pair = [regex]::Match($line, '^\s*([^=#;\s][^=]*?)\s*=(.*)$')
        if ($pair.Success) {
            $entries.Add([pscustomobject]@{
                    Section = $section
                    Key     = $pair.Groups[1].Value.ToLowerInvariant()
                    Value   = $pair.Groups[2].Value.Trim()
                })
        }
    }
    return $entries.ToArray()
}

function Get-MergedIniText {
    # Text with each key of Values set in the first [Section] (replacing existing lines, else appended to it).
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Text,
        [Parameter(Mandatory = $true)] [string]$Section,
        [Parameter(Mandatory = $true)] [System.Collections.Specialized.OrderedDictionary]$Values
    )
    $newline = $script:CrLf
    if ($Text.Contains($script:Lf) -and -not $Text.Contains($script:CrLf)) {
        $newline = $script:Lf
    }
    $lines = New-Object -TypeName 'System.Collections.Generic.List[string]'
    if ($Text.Length -gt 0) {
        $lines.AddRange([string[]][regex]::Split($Text, '\r?\n'))
        if ($lines[$lines.Count - 1].Length -eq 0) {
            $lines.RemoveAt($lines.Count - 1)
        }
    }
    $done = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::OrdinalIgnoreCase)
    $current = ''
    $insertAt = -1
    for ($i = 0; $i -lt $lines.Count; $i++) {
        $header = [regex]::Match($lines[$i], '^\s*\[([^\]]*)\]\s*$')
        if ($header.Success) {
            $current = $header.Groups[1].Value.Trim()
            if ($current -eq $Section -and $insertAt -lt 0) {
                $insertAt = $i + 1
            }
            continue
        }
        if ($current -ne $Section) {
            continue
        }
        $pair = [regex]::Match($lines[$i], '^(\s*)([^=#;\s][^=]*?)\s*=(.*)$')
        if (-not $pair.Success) {
            continue
        }
        if ($insertAt -ge 0 -and $insertAt -le $i) {
            $insertAt = $i + 1
        }
        foreach ($key in $Values.Keys) {
            if ($pair.Groups[2].Value -eq $key) {
                $lines[$i] = $pair.Groups[1].Value + $pair.Groups[2].Value + '=' + $Values[$key]
                [void]$done.Add($key)
            }
        }
    }
    $missing = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($key in $Values.Keys) {
        if (-not $done.Contains($key)) {
            $missing.Add($key + '=' + $Values[$key])
        }
    }
    if ($missing.Count -gt 0) {
        if ($insertAt -ge 0) {
            $lines.InsertRange($insertAt, $missing)
        } else {
            if ($lines.Count -gt 0 -and $lines[$lines.Count - 1].Trim().Length -gt 0) {
                $lines.Add('')
            }
            $lines.Add('[' + $Section + ']')
            $lines.AddRange($missing)
        }
    }
    if ($lines.Count -eq 0) {
        return ''
    }
    return ($lines -join $newline) + $newline
}

function Get-UntouchedIniEntry {
    # The key lines of Text other than Keys of Section: what a merge must leave exactly as it was.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Text,
        [Parameter(Mandatory = $true)] [string]$Section,
        [Parameter(Mandatory = $true)] [string[]]$Keys
    )
    foreach ($entry in @(ConvertFrom-IniText -Text $Text)) {
        if ($entry.Section -eq $Section -and $Keys -contains $entry.Key) {
            continue
        }
        $entry
    }
}

function Test-ByteOrderMark {
    # True when bytes start with a UTF-8 or UTF-16 byte order mark.
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [byte[]]$Bytes
    )
    if ($Bytes.Length -ge 3 -and $Bytes[0] -eq 0xEF -and $Bytes[1] -eq 0xBB -and $Bytes[2] -eq 0xBF) {
        return $true
    }
    return ($Bytes.Length -ge 2 -and (($Bytes[0] -eq 0xFF -and $Bytes[1] -eq 0xFE) -or ($Bytes[0] -eq 0xFE -and $Bytes[1] -eq 0xFF)))
}

function ConvertTo-IniValue {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowNull()] [object]$Value
    )
    if ($Value -is [bool]) {
        if ($Value) {
            return 'true'
        }
        return 'false'
    }
    $text = [System.Convert]::ToString($Value, $script:Invariant)
    if ($text -match '[\r\n]') {
        throw ('a .wslconfig value may not contain a line break: ' + $text)
    }
    return $text
}

# ---------------------------------------------------------------------------------------------------------------
# Host actions (steps.HOST_ACTIONS): one function each; mutations sit under ShouldProcess

function Test-MigrationHost {
    # check-host: elevation, Windows build, WSL, free space on the backup drive, the source engine; read-only.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    if (-not (Test-Elevated)) {
        if (-not $script:DryRun) {
            throw 'the runbook must run elevated (Run as administrator)'
        }
        Write-Warning -Message 'not elevated: fine for -WhatIf, but the real run needs an elevated PowerShell'
    }
    $build = [System.Environment]::OSVersion.Version.Build
    $minimum = [int](Get-StepParameter -Step $Step -Name 'min_windows_build' -Default 18362)
    if ($build -lt $minimum) {
        throw ('Windows build ' + $build + ' is older than ' + $minimum + ', the oldest one with WSL 2')
    }
    Add-StepNote -Text ('Windows build ' + $build)
    $wsl = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('System'), 'wsl.exe')
    if (-not [System.IO.File]::Exists($wsl)) {
        Add-StepNote -Text 'wsl.exe not found: the WSL features must be enabled'
    }
    $needed = [long](Get-StepParameter -Step $Step -Name 'backup_bytes' -Default 0)
    if ($script:BackupRoot -match '^[A-Za-z]:') {
        $drive = New-Object -TypeName System.IO.DriveInfo -ArgumentList $script:BackupRoot.Substring(0, 1)
        $free = $drive.AvailableFreeSpace
        Add-StepNote -Text ('free on ' + $drive.Name + ': ' + $free + ' bytes, backups need about ' + $needed)
        if ($needed -gt 0 -and $free -lt $needed) {
            throw ('not enough free space on ' + $drive.Name + ' for the backups: ' + $free + ' bytes free, ' + $needed + ' needed')
        }
    } else {
        Add-StepNote -Text 'backup folder on a network share: free space not checked'
    }
    foreach ($item in (Get-StepParameter -Step $Step -Name 'manual' -Default @())) {
        Write-Warning -Message ('to do by hand: ' + [string]$item)
    }
    $adminFile = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('CommonApplicationData'), 'DockerDesktop', 'admin-settings.json')
    if ([System.IO.File]::Exists($adminFile)) {
        $admin = Read-JsonDocument -Path $adminFile
        $wslSetting = Get-JsonProperty -Object (Get-JsonProperty -Object $admin -Name 'linuxVM') -Name 'wslEngineEnabled'
        if ([bool](Get-JsonProperty -Object $wslSetting -Name 'locked' -Default $false) -and -not [bool](Get-JsonProperty -Object $wslSetting -Name 'value' -Default $true)) {
            throw ($adminFile + ' locks wslEngineEnabled to false: ask your Docker Desktop administrator first')
        }
    }
    $probe = Invoke-DockerCommand -Engine $Step.Engine -Segments $Step.Commands['Probe'] -StepId $Step.Id -TimeoutSeconds 60
    Add-StepNote -Text ('source engine answers (' + $probe.StdOut.Trim() + ')')
}

function Initialize-BackupFolder {
    # prepare-backup-folder: the backup folder, and secrets\ created fresh and limited to the user and SYSTEM
    # (icacls /inheritance:r /grant:r) before anything is written into it.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $userSid = Get-CurrentUserSid
    $secrets = Get-BackupItemPath -Relative 'secrets'
    if ([System.IO.Directory]::Exists($secrets)) {
        $owner = (Get-Acl -LiteralPath $secrets).GetOwner([System.Security.Principal.SecurityIdentifier]).Value
        if ($owner -ne $userSid -and $owner -ne 'S-1-5-32-544') {
            throw ($secrets + ' already exists and belongs to ' + $owner + ': move it away first')
        }
        if (@([System.IO.Directory]::GetFileSystemEntries($secrets)).Count -gt 0) {
            throw ($secrets + ' already exists and is not empty: move it away first')
        }
    }
    if (-not $PSCmdlet.ShouldProcess($secrets, 'Create the backup folder and limit secrets\ to ' + $userSid + ' and SYSTEM')) {
        $script:StepDeclined = $true
        return
    }
    [void][System.IO.Directory]::CreateDirectory($secrets)
    $icacls = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('System'), 'icacls.exe')
    $arguments = (ConvertTo-QuotedArgument -Value $secrets) + ' /inheritance:r /grant:r *' + $userSid + ':(OI)(CI)F *S-1-5-18:(OI)(CI)F'
    [void](Invoke-NativeProcess -FilePath $icacls -Arguments $arguments -StepId $Step.Id)
    $acl = Get-Acl -LiteralPath $secrets
    if (-not $acl.AreAccessRulesProtected) {
        throw ($secrets + ': inheritance is still on after icacls')
    }
    $granted = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($rule in $acl.Access) {
        $sid = $rule.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]).Value
        if ($sid -ne $userSid -and $sid -ne 'S-1-5-18') {
            throw ($secrets + ': unexpected access rule for ' + $sid)
        }
        $granted.Add($sid + ':' + $rule.FileSystemRights)
    }
    # Other folders only now: those under secrets\ inherit its ACL.
    foreach ($folder in (Get-StepParameter -Step $Step -Name 'folders' -Default @('secrets/env'))) {
        [void][System.IO.Directory]::CreateDirectory((Get-BackupItemPath -Relative ([string]$folder)))
    }
    Write-RunbookLog -StepId $Step.Id -Message ('secrets folder ACL: ' + ($granted -join ', '))
    Add-StepNote -Text ('secrets\ limited to ' + ($granted -join ', '))
}

function Export-ContainerEnvironment {
    # write-env-file: Config.Env of a source container as a docker env file in secrets\; values are never logged.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $relative = [string](Get-StepParameter -Step $Step -Name 'path' -Required)
    $names = [string[]](Get-StepParameter -Step $Step -Name 'names' -Default @())
    $skip = [string[]](Get-StepParameter -Step $Step -Name 'skip' -Default @())
    $limit = Test-StepParameter -Step $Step -Name 'names'
    $inspect = Invoke-DockerCommand -Engine $Step.Engine -Segments $Step.Commands['Inspect'] -StepId $Step.Id
    $environment = ConvertFrom-Json -InputObject $inspect.StdOut
    $lines = New-Object -TypeName 'System.Collections.Generic.List[string]'
    $seen = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::Ordinal)
    $dropped = 0
    foreach ($entry in $environment) {
        $text = [string]$entry
        $cut = $text.IndexOf('=')
        if ($cut -lt 1) {
            $dropped++
            continue
        }
        $name = $text.Substring(0, $cut)
        $value = $text.Substring($cut + 1)
        if (($limit -and $names -cnotcontains $name) -or $skip -ccontains $name) {
            continue
        }
        # What a docker env file cannot hold: a blank or '#' start, whitespace in the name, a line break in the value.
        if ($name -match '\s' -or $name.StartsWith('#') -or $value -match '[\r\n]' -or $value.IndexOf([char]0) -ge 0) {
            $dropped++
            continue
        }
        [void]$seen.Add($name)
        $lines.Add($name + '=' + $value)
    }
    $absent = 0
    if ($limit) {
        foreach ($name in $names) {
            if (-not $seen.Contains([string]$name)) {
                $absent++
            }
        }
    }
    $path = Get-BackupItemPath -Relative $relative
    if (-not $PSCmdlet.ShouldProcess($path, 'Write ' + $lines.Count + ' environment entries')) {
        $script:StepDeclined = $true
        return
    }
    if (-not [System.IO.Directory]::Exists((Get-BackupItemPath -Relative 'secrets'))) {
        throw 'the secrets folder does not exist: run the prepare-backup-folder step first'
    }
    [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($path))
    $body = ''
    if ($lines.Count -gt 0) {
        # LF endings: docker's env-file reader keeps a CR as part of the value.
        $body = ($lines -join $script:Lf) + $script:Lf
    }
    Write-Utf8FileAtomic -Path $path -Text $body
    Add-StepNote -Text ([string]$lines.Count + ' entries written, ' + $dropped + ' not representable, ' + $absent + ' planned names absent')
    if ($absent -gt 0 -or $dropped -gt 0) {
        Write-Warning -Message ('step ' + $Step.Id + ': ' + $dropped + ' entries cannot be carried in an env file, ' + $absent + ' planned names were not found')
    }
}

function Test-BackupArtifact {
    # verify-backups: every artifact of the earlier steps re-hashed against artifacts.json; the switch waits for it.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $verified = @{}
    $problems = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($producer in $script:Steps) {
        if ($producer.Index -ge $Step.Index) {
            break
        }
        foreach ($artifact in $producer.Produces) {
            if (-not $script:Artifacts.ContainsKey($artifact.Path)) {
                $problems.Add($artifact.Path + ': not recorded (step ' + $producer.Id + ' has not run)')
                continue
            }
            $record = $script:Artifacts[$artifact.Path]
            try {
                $facts = Measure-BackupArtifact -Relative $artifact.Path -Tar:$record.Tar
            } catch {
                $problems.Add($artifact.Path + ': ' + $_.Exception.Message)
                continue
            }
            if ($facts.Size -ne $record.Size -or $facts.Sha256 -ne $record.Sha256 -or $facts.TarEntries -ne $record.TarEntries) {
                $problems.Add($artifact.Path + ': differs from what was recorded when it was written')
                continue
            }
            $verified[$artifact.Path] = $record.Sha256
        }
    }
    if ($problems.Count -gt 0) {
        if ($script:DryRun) {
            $script:StepDeclined = $true
            Add-StepNote -Text ('would verify after the backups exist: ' + ($problems -join '; '))
            return
        }
        throw ('backups failed verification: ' + ($problems -join '; '))
    }
    if (-not $script:DryRun) {
        $script:Journal.BackupsVerified = $verified
        $script:Journal.BackupsVerifiedAt = Get-TimeStamp
    }
    Add-StepNote -Text ([string]$verified.Count + ' artifacts verified')
}

function Stop-DockerDesktop {
    # stop-desktop: 'docker desktop stop' where it exists (4.37+), else the processes; then wait until all are gone.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $timeout = [int](Get-StepParameter -Step $Step -Name 'timeout_seconds' -Default 120)
    $running = @(Get-Process -Name $script:DesktopProcessNames -ErrorAction SilentlyContinue)
    $service = Get-Service -Name 'com.docker.service' -ErrorAction SilentlyContinue
    $serviceRunning = $null -ne $service -and $service.Status -eq 'Running'
    if ($running.Count -eq 0 -and -not $serviceRunning) {
        Add-StepNote -Text 'Docker Desktop is not running'
    } elseif ($PSCmdlet.ShouldProcess('Docker Desktop', 'Stop')) {
        $graceful = Invoke-DockerCommand -Engine '' -Segments @('desktop stop') -StepId $Step.Id -TimeoutSeconds $timeout -NoThrow
        if ($graceful.ExitCode -ne 0) {
            Write-RunbookLog -StepId $Step.Id -Message 'docker desktop stop is not available; stopping the processes'
            Stop-Process -Name $script:DesktopProcessNames -Force -ErrorAction SilentlyContinue -Confirm:$false
        }
        if ($serviceRunning) {
            Stop-Service -Name 'com.docker.service' -Force -Confirm:$false
        }
        $deadline = (Get-Date).AddSeconds($timeout)
        while (@(Get-Process -Name $script:DesktopProcessNames -ErrorAction SilentlyContinue).Count -gt 0) {
            if ((Get-Date) -gt $deadline) {
                throw ('Docker Desktop did not stop within ' + $timeout + ' s')
            }
            Start-Sleep -Seconds 2
        }
        Add-StepNote -Text 'Docker Desktop stopped'
    } else {
        $script:StepDeclined = $true
    }
    if ([bool](Get-StepParameter -Step $Step -Name 'shutdown_wsl' -Default $false)) {
        Invoke-WslShutdown -Step $Step
    }
}

function Invoke-WslShutdown {
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $wsl = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('System'), 'wsl.exe')
    if (-not [System.IO.File]::Exists($wsl)) {
        return
    }
    if ($PSCmdlet.ShouldProcess('WSL', 'Shut down all distributions (wsl --shutdown)')) {
        [void](Invoke-NativeProcess -FilePath $wsl -Arguments '--shutdown' -StepId $Step.Id -TimeoutSeconds 120)
        $script:Journal.WslShutdownNeeded = $false
        Add-StepNote -Text 'WSL shut down'
    } else {
        $script:StepDeclined = $true
    }
}

function Backup-SettingsFile {
    # backup-file: copies the named settings files (bytes kept) into settings\ and lists them in the step's
    # manifest; an earlier copy is never overwritten, because it holds the settings from before any change.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $manifestRelative = 'settings/manifest.json'
    if (@($Step.Produces).Count -gt 0) {
        $manifestRelative = $Step.Produces[0].Path
    }
    $manifestPath = Get-BackupItemPath -Relative $manifestRelative
    if ([System.IO.File]::Exists($manifestPath)) {
        Add-StepNote -Text ('kept the backup made earlier (' + $manifestRelative + ')')
        return
    }
    $files = New-Object -TypeName 'System.Collections.Generic.List[object]'
    foreach ($name in (Get-StepParameter -Step $Step -Name 'files' -Required)) {
        foreach ($file in (Get-SettingsFileSet -Name ([string]$name))) {
            $files.Add(@{ Set = [string]$name; Path = $file.Path; Backup = $file.Backup })
        }
    }
    if (-not $PSCmdlet.ShouldProcess($script:BackupRoot, 'Copy ' + $files.Count + ' settings files into the backup folder')) {
        $script:StepDeclined = $true
        return
    }
    $entries = New-Object -TypeName 'System.Collections.Generic.List[object]'
    foreach ($file in $files) {
        $entry = [ordered]@{ set = $file.Set; path = $file.Path; backup = $file.Backup; present = $false; size = 0; sha256 = '' }
        if ([System.IO.File]::Exists($file.Path)) {
            $bytes = [System.IO.File]::ReadAllBytes($file.Path)
            $target = Get-BackupItemPath -Relative $file.Backup
            [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($target))
            Write-BytesFileAtomic -Path $target -Bytes $bytes
            $source = (Get-FileHash -LiteralPath $file.Path -Algorithm SHA256).Hash.ToLowerInvariant()
            $copy = Measure-BackupArtifact -Relative $file.Backup
            if ($copy.Sha256 -ne $source) {
                throw ('the copy of ' + $file.Path + ' differs from the original (it changed while being copied?)')
            }
            $entry.present = $true
            $entry.size = $copy.Size
            $entry.sha256 = $copy.Sha256
            Save-StepArtifact -Step $Step -Artifact @{ Path = $file.Backup; Kind = 'settings-backup'; Subject = $file.Path; Tar = $false; Secret = $false }
        }
        $entries.Add($entry)
    }
    $document = [ordered]@{ format = 'wsl2-migrate-settings-backup/1'; files = $entries.ToArray() }
    [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($manifestPath))
    Write-Utf8FileAtomic -Path $manifestPath -Text (ConvertTo-Json -InputObject $document -Depth 5)
}

function Enable-WslWindowsFeature {
    # enable-feature: an optional Windows feature, without restarting; a needed restart is noted for 'reboot'.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $name = [string](Get-StepParameter -Step $Step -Name 'name' -Required)
    try {
        $feature = Get-WindowsOptionalFeature -Online -FeatureName $name
    } catch {
        if ($script:DryRun) {
            $script:StepDeclined = $true
            Add-StepNote -Text ('cannot read feature ' + $name + ' (' + $_.Exception.Message + ')')
            return
        }
        throw
    }
    if ($null -ne $feature -and [string]$feature.State -eq 'Enabled') {
        Add-StepNote -Text ($name + ' already enabled')
        return
    }
    if (-not $PSCmdlet.ShouldProcess($name, 'Enable Windows feature')) {
        $script:StepDeclined = $true
        return
    }
    $result = Enable-WindowsOptionalFeature -Online -FeatureName $name -All -NoRestart
    if ($result.RestartNeeded) {
        $script:Journal.RebootRequired = $true
        Add-StepNote -Text ($name + ' enabled; Windows must restart')
    } else {
        Add-StepNote -Text ($name + ' enabled')
    }
}

function Register-ResumeTask {
    # reboot: when an earlier step needs a restart, registers an at-logon task (this user, interactive, highest
    # privileges) that runs this runbook with -Resume, then stops and tells the user to restart Windows.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    if (-not $script:Journal.RebootRequired) {
        Add-StepNote -Text 'no restart needed'
        return
    }
    $user = [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
    $powershellExe = (Get-Process -Id $PID).Path
    $arguments = '-NoProfile -ExecutionPolicy Bypass -File ' + (ConvertTo-QuotedArgument -Value $script:Options.ScriptPath)
    $arguments += ' -Resume -BackupPath ' + (ConvertTo-QuotedArgument -Value $script:BackupRoot)
    $arguments += ' -SourceEngine ' + $script:Engines['source'] + ' -TargetEngine ' + $script:Engines['target']
    $arguments += ' -DockerPath ' + (ConvertTo-QuotedArgument -Value $script:DockerExe)
    $arguments += ' -EngineTimeoutSeconds ' + $script:Options.EngineTimeoutSeconds
    if ($script:Options.Force) {
        $arguments += ' -Force'
    }
    if (-not $PSCmdlet.ShouldProcess($script:ResumeTaskName, 'Register a logon task that resumes the runbook')) {
        $script:StepDeclined = $true
        return
    }
    $splatTask = @{
        TaskName    = $script:ResumeTaskName
        Action      = New-ScheduledTaskAction -Execute $powershellExe -Argument $arguments
        Trigger     = New-ScheduledTaskTrigger -AtLogOn -User $user
        Principal   = New-ScheduledTaskPrincipal -UserId $user -LogonType Interactive -RunLevel Highest
        Description = 'Resumes the wsl2-migrate runbook of plan ' + $script:PlanHash + ' after a restart'
        Force       = $true
    }
    [void](Register-ScheduledTask @splatTask)
    Write-RunbookLog -StepId $Step.Id -Message ('registered task ' + $script:ResumeTaskName + ': ' + $powershellExe + ' ' + $arguments)
    $script:StopRequested = $true
    Add-StepNote -Text 'restart Windows now; the runbook resumes after you log on'
}

function Edit-DesktopSetting {
    # set-desktop-setting: keys of Docker Desktop's live settings file (settings-store.json on 4.35+).
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $values = Get-StepParameter -Step $Step -Name 'values' -Required
    $copy = ConvertFrom-Json -InputObject (ConvertTo-Json -InputObject $values -Depth 100)
    if ([bool](Get-StepParameter -Step $Step -Name 'linux_containers' -Default $false)) {
        Add-Member -InputObject $copy -MemberType NoteProperty -Name 'useWindowsContainers' -Value $false -Force
    }
    $path = Get-DesktopSettingsPath -FileName ([string](Get-StepParameter -Step $Step -Name 'file' -Default ''))
    if (-not [System.IO.File]::Exists($path)) {
        throw ($path + ' does not exist: start Docker Desktop once so that it writes its settings, then resume')
    }
    $pascal = [System.IO.Path]::GetFileName($path) -eq 'settings-store.json'
    Update-JsonFile -Path $path -Set $copy -PascalCaseNewKeys:$pascal -StepId $Step.Id
}

function Edit-DaemonConfig {
    # edit-daemon-config: sets and removes top-level keys of a daemon.json (and Docker Desktop's own copy of it),
    # every other key kept; keys match exactly, as dockerd reads them. Engine linux creates its file to set keys.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $engine = [string](Get-StepParameter -Step $Step -Name 'engine' -Default 'windows')
    $remove = [string[]](Get-StepParameter -Step $Step -Name 'remove' -Default @())
    $set = Get-StepParameter -Step $Step -Name 'set'
    $setsKeys = $null -ne $set -and @($set.PSObject.Properties).Count -gt 0
    $fileSet = 'daemon-windows'
    if ($engine -eq 'linux') {
        $fileSet = 'daemon-linux'
    }
    foreach ($file in (Get-SettingsFileSet -Name $fileSet)) {
        $exists = [System.IO.File]::Exists($file.Path)
        if (-not $exists -and -not ($setsKeys -and $engine -eq 'linux')) {
            Add-StepNote -Text ($file.Path + ' does not exist')
            continue
        }
        $splatEdit = @{
            Path          = $file.Path
            Set           = $set
            Remove        = $remove
            ExactKeys     = $true
            CreateMissing = (-not $exists)
            StepId        = $Step.Id
        }
        Update-JsonFile @splatEdit
    }
}

function Merge-WslConfig {
    # write-wslconfig: keys merged into [wsl2] of %UserProfile%\.wslconfig; other lines and sections kept as they are.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $values = Get-StepParameter -Step $Step -Name 'values' -Required
    $wanted = [ordered]@{}
    foreach ($entry in $values.PSObject.Properties) {
        $wanted[$entry.Name] = ConvertTo-IniValue -Value $entry.Value
    }
    $path = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('UserProfile'), '.wslconfig')
    $exists = [System.IO.File]::Exists($path)
    $originalText = ''
    $originalBytes = New-Object -TypeName 'byte[]' -ArgumentList 0
    if ($exists) {
        $originalBytes = [System.IO.File]::ReadAllBytes($path)
        $originalText = Read-TextFile -Path $path
    }
    $newText = Get-MergedIniText -Text $originalText -Section 'wsl2' -Values $wanted
    if ($newText -ceq $originalText -and -not (Test-ByteOrderMark -Bytes $originalBytes)) {
        Add-StepNote -Text '.wslconfig already as planned'
        return
    }
    if (-not $PSCmdlet.ShouldProcess($path, 'Set [wsl2] ' + (@($wanted.Keys) -join ', '))) {
        $script:StepDeclined = $true
        return
    }
    if ($exists) {
        [void](Save-FileSnapshot -Path $path -Bytes $originalBytes -Folder 'edits')
    }
    # UTF-8 without BOM: WSL ignores a .wslconfig saved as UTF-16.
    Write-Utf8FileAtomic -Path $path -Text $newText
    $reread = Read-TextFile -Path $path
    $problem = ''
    if ($reread -cne $newText) {
        $problem = 'the file reads back differently'
    } else {
        $before = @(Get-UntouchedIniEntry -Text $originalText -Section 'wsl2' -Keys @($wanted.Keys))
        $after = @(Get-UntouchedIniEntry -Text $reread -Section 'wsl2' -Keys @($wanted.Keys))
        if ($before.Count -ne $after.Count) {
            $problem = 'other keys changed'
        } else {
            for ($i = 0; $i -lt $before.Count; $i++) {
                if ($before[$i].Section -cne $after[$i].Section -or $before[$i].Key -cne $after[$i].Key -or $before[$i].Value -cne $after[$i].Value) {
                    $problem = 'key ' + $before[$i].Key + ' changed'
                }
            }
        }
    }
    if ($problem.Length -gt 0) {
        if ($exists) {
            Write-BytesFileAtomic -Path $path -Bytes $originalBytes
        }
        throw ('step ' + $Step.Id + ': ' + $path + ': ' + $problem + '; the original was put back')
    }
    $script:Journal.WslShutdownNeeded = $true
    Add-StepNote -Text ('set [wsl2] ' + (@($wanted.Keys) -join ', ') + '; applies after wsl --shutdown')
}

function Start-DockerDesktop {
    # start-desktop: 'docker desktop start' where it exists (4.37+), else Docker Desktop.exe; wait-engine waits.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    if ($script:Journal.WslShutdownNeeded) {
        Invoke-WslShutdown -Step $Step
    }
    if (@(Get-Process -Name 'Docker Desktop', 'Docker for Windows' -ErrorAction SilentlyContinue).Count -gt 0) {
        Add-StepNote -Text 'Docker Desktop is already running'
        return
    }
    $exe = Expand-WindowsPath -Path ([string](Get-StepParameter -Step $Step -Name 'path' -Default ''))
    if ($exe.Length -eq 0) {
        $folder = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('ProgramFiles'), 'Docker', 'Docker')
        $exe = [System.IO.Path]::Combine($folder, 'Docker Desktop.exe')
        if (-not [System.IO.File]::Exists($exe)) {
            $exe = [System.IO.Path]::Combine($folder, 'Docker for Windows.exe')
        }
    }
    if (-not $PSCmdlet.ShouldProcess($exe, 'Start Docker Desktop')) {
        $script:StepDeclined = $true
        return
    }
    $started = Invoke-DockerCommand -Engine '' -Segments @('desktop start --detach') -StepId $Step.Id -TimeoutSeconds 120 -NoThrow
    if ($started.ExitCode -ne 0) {
        if (-not [System.IO.File]::Exists($exe)) {
            throw ('cannot find Docker Desktop (' + $exe + ')')
        }
        Start-Process -FilePath $exe
    }
    Add-StepNote -Text 'Docker Desktop started'
}

function Wait-DockerEngine {
    # wait-engine: polls 'docker version' until the engine answers with the expected OS (and kernel), or times out.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $timeout = [int](Get-StepParameter -Step $Step -Name 'timeout_seconds' -Default $script:Options.EngineTimeoutSeconds)
    $osType = [string](Get-StepParameter -Step $Step -Name 'os_type' -Default 'linux')
    $kernel = [string](Get-StepParameter -Step $Step -Name 'kernel_contains' -Default 'microsoft-standard')
    $deadline = (Get-Date).AddSeconds($timeout)
    $last = 'no answer'
    while ($true) {
        $probe = Invoke-DockerCommand -Engine $Step.Engine -Segments $Step.Commands['Probe'] -StepId $Step.Id -TimeoutSeconds 60 -NoThrow
        if ($probe.ExitCode -eq 0) {
            $answer = $probe.StdOut.Trim()
            $cut = $answer.IndexOf('/')
            $os = $answer
            $version = ''
            if ($cut -ge 0) {
                $os = $answer.Substring(0, $cut)
                $version = $answer.Substring($cut + 1)
            }
            if ($os -eq $osType -and ($kernel.Length -eq 0 -or $version.Contains($kernel))) {
                Add-StepNote -Text ('engine ready: ' + $answer)
                Test-EngineRegistryConfig -Step $Step
                return
            }
            $last = 'engine answers ' + $answer + ', expected ' + $osType + ' with a kernel containing ' + $kernel
        } else {
            $last = Get-TextTail -Text $probe.StdErr -Length 300
        }
        if ((Get-Date) -gt $deadline) {
            throw ('step ' + $Step.Id + ': the engine was not ready within ' + $timeout + ' s: ' + $last)
        }
        Start-Sleep -Seconds 3
    }
}

function ConvertTo-CidrKey {
    # An 'address/prefix' entry as its network (address bytes masked to the prefix) and prefix, so 10.1.2.3/8 and
    # 10.0.0.0/8 compare equal as they do for dockerd (net.ParseCIDR keeps the network); '' when it is no CIDR.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Text
    )
    $parts = $Text.Split([char]47)
    if ($parts.Count -ne 2 -or $parts[1] -notmatch '^[0-9]{1,3}$') {
        return ''
    }
    $address = $null
    if (-not [System.Net.IPAddress]::TryParse($parts[0], [ref]$address)) {
        return ''
    }
    $prefix = [int]$parts[1]
    $bytes = $address.GetAddressBytes()
    if ($prefix -gt 8 * $bytes.Length) {
        return ''
    }
    for ($i = 0; $i -lt $bytes.Length; $i++) {
        $keep = [System.Math]::Min([System.Math]::Max($prefix - 8 * $i, 0), 8)
        $bytes[$i] = [byte]($bytes[$i] -band ((255 -shl (8 - $keep)) -band 255))
    }
    return ([System.BitConverter]::ToString($bytes) + '/' + $prefix)
}

function Find-MissingRegistryEntry {
    # The expected registry mirrors and insecure registries that a docker info RegistryConfig object lacks, each
    # named ('mirror X', 'insecure registry Y'); the rules are in migrate/emit/runbook.py (wait-engine).
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [AllowNull()] [object]$Config,
        [AllowEmptyCollection()] [string[]]$Mirrors = @(),
        [AllowEmptyCollection()] [string[]]$Insecure = @()
    )
    $missing = New-Object -TypeName 'System.Collections.Generic.List[string]'
    # dockerd stores a mirror with a trailing '/'; host names do not depend on case.
    $haveMirrors = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::OrdinalIgnoreCase)
    foreach ($item in @(Get-JsonProperty -Object $Config -Name 'Mirrors')) {
        if ($item -is [string]) {
            [void]$haveMirrors.Add(($item -replace '/$', ''))
        }
    }
    foreach ($mirror in $Mirrors) {
        if (-not $haveMirrors.Contains(($mirror -replace '/$', ''))) {
            $missing.Add('mirror ' + $mirror)
        }
    }
    $haveNetworks = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::Ordinal)
    foreach ($item in @(Get-JsonProperty -Object $Config -Name 'InsecureRegistryCIDRs')) {
        if ($item -is [string]) {
            $key = ConvertTo-CidrKey -Text $item
            if ($key.Length -gt 0) {
                [void]$haveNetworks.Add($key)
            }
        }
    }
    $indexConfigs = Get-JsonProperty -Object $Config -Name 'IndexConfigs'
    foreach ($registry in $Insecure) {
        # dockerd drops an http:// or https:// in front of an insecure registry.
        $name = $registry -replace '^https?://', ''
        $key = ConvertTo-CidrKey -Text $name
        $found = $false
        if ($key.Length -gt 0) {
            $found = $haveNetworks.Contains($key)
        } elseif ($indexConfigs -is [System.Management.Automation.PSCustomObject]) {
            $index = Find-JsonProperty -Object $indexConfigs -Name $name
            if ($null -ne $index) {
                $secure = Get-JsonProperty -Object $index.Value -Name 'Secure' -Default $true
                $found = ($secure -is [bool]) -and -not $secure
            }
        }
        if (-not $found) {
            $missing.Add('insecure registry ' + $registry)
        }
    }
    return , $missing.ToArray()
}

function Test-EngineRegistryConfig {
    # wait-engine, once the engine answers: the registry mirrors and insecure registries of the plan must be in
    # docker info (a read-only probe); under -WhatIf the engine is still the old one, so the check is only reported.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $mirrors = [string[]](Get-StepParameter -Step $Step -Name 'registry_mirrors' -Default @())
    $insecure = [string[]](Get-StepParameter -Step $Step -Name 'insecure_registries' -Default @())
    if ($mirrors.Count + $insecure.Count -eq 0) {
        return
    }
    $wanted = 'registry mirrors [' + ($mirrors -join ', ') + '] and insecure registries [' + ($insecure -join ', ') + ']'
    if ($script:DryRun) {
        Add-StepNote -Text ('would check docker info for ' + $wanted)
        return
    }
    $probe = Invoke-DockerCommand -Engine $Step.Engine -Segments $Step.Commands['Registry'] -StepId $Step.Id -TimeoutSeconds 60
    try {
        $config = ConvertFrom-Json -InputObject $probe.StdOut
    } catch {
        throw ('step ' + $Step.Id + ': docker info gave no readable RegistryConfig: ' + (Get-TextTail -Text $probe.StdOut -Length 300))
    }
    $missing = Find-MissingRegistryEntry -Config $config -Mirrors $mirrors -Insecure $insecure
    if ($missing.Count -gt 0) {
        throw ('step ' + $Step.Id + ': the engine lacks ' + ($missing -join ', ') + ' (docker info RegistryConfig): add them in Settings > Docker Engine, then resume')
    }
    Add-StepNote -Text ('engine has ' + $wanted)
}

function Read-VolumeDigest {
    # The digest token of a file a helper container wrote ('sha256:<64 hex> <entries>' and LF, by sh): its first
    # whitespace-separated token, so line endings and trailing blanks do not matter (as for wsl2-migrate verify).
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [string]$Relative
    )
    $tokens = (Read-TextFile -Path (Get-BackupItemPath -Relative $Relative)).Trim() -split '\s+'
    $token = [string]$tokens[0]
    if ($token -cnotmatch '^sha256:[0-9a-f]{64}$') {
        throw ($Relative + ' does not start with a volume digest (sha256: and 64 lower-case hex digits)')
    }
    return $token
}

function Test-TargetEngine {
    # verify-target: images (id and tags), networks (driver, subnets), volumes (the digest files written on the
    # source and on the target), containers (image id, running) compared with the plan's manifest; the rules are
    # in migrate/emit/runbook.py.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $manifest = $Step.Manifest
    $problems = New-Object -TypeName 'System.Collections.Generic.List[string]'
    $list = Invoke-DockerCommand -Engine $Step.Engine -Segments $Step.Commands['ImageList'] -StepId $Step.Id
    $idOfTag = @{}
    $ids = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::Ordinal)
    foreach ($line in $list.StdOut.Split([char]10)) {
        $fields = $line.Trim().Split([char[]]@('|'), 2)
        if ($fields.Count -ne 2 -or $fields[0].Length -eq 0) {
            continue
        }
        [void]$ids.Add($fields[0])
        if (-not $fields[1].Contains('<none>')) {
            $idOfTag[$fields[1]] = $fields[0]
        }
    }
    foreach ($image in $manifest.Images) {
        if (-not $ids.Contains($image.Id)) {
            $problems.Add('image ' + $image.Id + ' is missing')
            continue
        }
        foreach ($tag in $image.Tags) {
            if (-not $idOfTag.ContainsKey($tag)) {
                $problems.Add('tag ' + $tag + ' is missing')
            } elseif ($idOfTag[$tag] -cne $image.Id) {
                $problems.Add('tag ' + $tag + ' points to ' + $idOfTag[$tag] + ', not ' + $image.Id)
            }
        }
    }
    foreach ($network in $manifest.Networks) {
        $answer = Invoke-DockerCommand -Engine $Step.Engine -Segments $network.Inspect -StepId $Step.Id -NoThrow
        if ($answer.ExitCode -ne 0) {
            $problems.Add('network ' + $network.Name + ' is missing (' + (Get-TextTail -Text $answer.StdErr -Length 200) + ')')
            continue
        }
        $fields = $answer.StdOut.Trim().Split([char[]]@('|'), 2)
        if ($fields.Count -ne 2) {
            $problems.Add('network ' + $network.Name + ': unexpected answer ' + $answer.StdOut.Trim())
            continue
        }
        $subnets = @($fields[1].Split([char[]]@(','), [System.StringSplitOptions]::RemoveEmptyEntries) | Sort-Object)
        if ($fields[0] -cne $network.Driver) {
            $problems.Add('network ' + $network.Name + ' uses driver ' + $fields[0] + ', not ' + $network.Driver)
        }
        $expected = @($network.Subnets | Sort-Object)
        if ($expected.Count -gt 0 -and (($expected -join ',') -cne ($subnets -join ','))) {
            $problems.Add('network ' + $network.Name + ' has subnets ' + ($subnets -join ',') + ', not ' + ($expected -join ','))
        }
    }
    foreach ($volume in $manifest.Volumes) {
        $missing = New-Object -TypeName 'System.Collections.Generic.List[string]'
        foreach ($relative in @($volume.BackupDigest, $volume.TargetDigest)) {
            if (-not [System.IO.File]::Exists((Get-BackupItemPath -Relative $relative))) {
                $missing.Add($relative)
            }
        }
        if ($missing.Count -gt 0) {
            # Under -WhatIf the docker steps that write the digests did not run: report, do not fail.
            if ($script:DryRun) {
                $script:StepDeclined = $true
                Add-StepNote -Text ('volume ' + $volume.Name + ': would compare ' + ($missing -join ' and ') + ' once written')
            } else {
                $problems.Add('volume ' + $volume.Name + ': ' + ($missing -join ' and ') + ' missing in the backup folder')
            }
            continue
        }
        try {
            $then = Read-VolumeDigest -Relative $volume.BackupDigest
            $now = Read-VolumeDigest -Relative $volume.TargetDigest
        } catch {
            $problem = $_
            $problems.Add('volume ' + $volume.Name + ': ' + $problem.Exception.Message)
            continue
        }
        if ($now -cne $then) {
            $problems.Add('volume ' + $volume.Name + ': content differs: ' + $volume.TargetDigest + ' holds ' + $now + ', ' + $volume.BackupDigest + ' holds ' + $then)
        }
    }
    foreach ($container in $manifest.Containers) {
        $answer = Invoke-DockerCommand -Engine $Step.Engine -Segments $container.Inspect -StepId $Step.Id -NoThrow
        if ($answer.ExitCode -ne 0) {
            $problems.Add('container ' + $container.Name + ' is missing (' + (Get-TextTail -Text $answer.StdErr -Length 200) + ')')
            continue
        }
        $fields = $answer.StdOut.Trim().Split([char[]]@('|'), 2)
        if ($fields[0] -cne $container.ImageId) {
            $problems.Add('container ' + $container.Name + ' runs image ' + $fields[0] + ', not ' + $container.ImageId)
        }
        $running = $fields.Count -eq 2 -and $fields[1] -eq 'true'
        if ($running -ne $container.Running) {
            $problems.Add('container ' + $container.Name + ' running=' + $running + ', expected ' + $container.Running)
        }
    }
    if ($problems.Count -gt 0) {
        throw ('step ' + $Step.Id + ': the target engine differs from the plan: ' + ($problems -join '; '))
    }
    Add-StepNote -Text ('equal: ' + @($manifest.Images).Count + ' images, ' + @($manifest.Networks).Count + ' networks, ' + @($manifest.Volumes).Count + ' volumes, ' + @($manifest.Containers).Count + ' containers')
}

function Complete-Migration {
    # finish: removes the resume task and writes summary.json; never deletes data or backups.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $task = Get-ScheduledTask -TaskName $script:ResumeTaskName -ErrorAction SilentlyContinue
    if ($null -ne $task) {
        if ($PSCmdlet.ShouldProcess($script:ResumeTaskName, 'Remove the resume task')) {
            Unregister-ScheduledTask -TaskName $script:ResumeTaskName -Confirm:$false
            Add-StepNote -Text 'resume task removed'
        } else {
            $script:StepDeclined = $true
        }
    }
    if (-not $script:DryRun) {
        $steps = New-Object -TypeName 'System.Collections.Generic.List[object]'
        foreach ($item in $script:Steps) {
            $steps.Add([ordered]@{ id = $item.Id; status = (Get-JournalStepStatus -Id $item.Id) })
        }
        $summary = [ordered]@{ planHash = $script:PlanHash; finishedAt = Get-TimeStamp; steps = $steps.ToArray() }
        Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative 'summary.json') -Text (ConvertTo-Json -InputObject $summary -Depth 5)
    }
    Add-StepNote -Text ('backups stay in ' + $script:BackupRoot + '; the old backend data is untouched')
}

# ---------------------------------------------------------------------------------------------------------------
# Steps

function ConvertTo-StepResult {
    # The one output type of the runbook (one object per step), also kept for the summary table.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step,
        [Parameter(Mandatory = $true)] [ValidateSet('Successful', 'Skipped', 'Failed', 'WouldRun')] [string]$Status,
        [AllowEmptyString()] [string]$Notes = '',
        [Parameter(Mandatory = $true)] [datetime]$StartedAt,
        [Parameter(Mandatory = $true)] [timespan]$Duration
    )
    $result = [pscustomobject]@{
        StepId    = $Step.Id
        Name      = $Step.Title
        Target    = $Step.Target
        Status    = $Status
        Notes     = $Notes
        StartedAt = $StartedAt
        Duration  = $Duration
    }
    $result.PSObject.TypeNames.Insert(0, 'Wsl2Migrate.StepResult')
    $script:Results.Add($result)
    return $result
}

function Get-StepBlocker {
    # Why a step cannot run now: @{ Status = 'WouldRun' | 'Failed'; Notes = ... }, or $null when it can.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    foreach ($dependency in $Step.DependsOn) {
        if ((Get-JournalStepStatus -Id $dependency) -eq 'done' -or $script:RunStatus[$dependency] -eq 'done') {
            continue
        }
        if ($script:RunStatus[$dependency] -eq 'wouldrun' -or $script:DryRun) {
            return @{ Status = 'WouldRun'; Notes = 'runs after ' + $dependency }
        }
        return @{ Status = 'Failed'; Notes = 'depends on ' + $dependency + ', which is not done' }
    }
    if ($script:GatedPhases -contains $Step.Phase -and $script:VerifyBackupsStepId.Length -gt 0) {
        if (-not (Test-BackupsVerified)) {
            if ($script:DryRun -or $script:RunStatus[$script:VerifyBackupsStepId] -eq 'wouldrun') {
                return @{ Status = 'WouldRun'; Notes = 'runs after ' + $script:VerifyBackupsStepId + ' has passed' }
            }
            return @{ Status = 'Failed'; Notes = 'the backups have not passed ' + $script:VerifyBackupsStepId + ' (or changed since): run it first' }
        }
    }
    foreach ($relative in $Step.Consumes) {
        if (-not $script:Artifacts.ContainsKey($relative)) {
            if ($script:DryRun) {
                return @{ Status = 'WouldRun'; Notes = 'needs ' + $relative + ', not written yet' }
            }
            return @{ Status = 'Failed'; Notes = 'needs ' + $relative + ', which is not in artifacts.json' }
        }
        $path = Get-BackupItemPath -Relative $relative
        if (-not [System.IO.File]::Exists($path) -or (New-Object -TypeName System.IO.FileInfo -ArgumentList $path).Length -ne $script:Artifacts[$relative].Size) {
            return @{ Status = 'Failed'; Notes = $relative + ' is missing or its size changed since it was written' }
        }
    }
    return $null
}

function Test-BackupsVerified {
    # verify-backups passed and no artifact it covered was rewritten since.
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    if ($null -eq $script:Journal.BackupsVerified) {
        return $false
    }
    if ((Get-JournalStepStatus -Id $script:VerifyBackupsStepId) -ne 'done' -and $script:RunStatus[$script:VerifyBackupsStepId] -ne 'done') {
        return $false
    }
    foreach ($item in $script:Steps) {
        if ($item.Id -eq $script:VerifyBackupsStepId) {
            break
        }
        foreach ($artifact in $item.Produces) {
            $sha = $script:Journal.BackupsVerified[$artifact.Path]
            if ($null -eq $sha -or -not $script:Artifacts.ContainsKey($artifact.Path) -or $script:Artifacts[$artifact.Path].Sha256 -ne $sha) {
                return $false
            }
        }
    }
    return $true
}

function Resolve-WorkingDirectory {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string]$Path
    )
    if ($Path.Length -eq 0) {
        return ''
    }
    $full = Expand-WindowsPath -Path $Path
    if (-not [System.IO.Directory]::Exists($full)) {
        throw ('working folder ' + $full + ' does not exist')
    }
    return $full
}

function Invoke-DockerStep {
    # A docker step: a mutating one runs only when ShouldProcess agrees; a read-only probe runs under -WhatIf too.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $splatDocker = @{
        Engine           = $Step.Engine
        Segments         = $Step.CommandLine
        StepId           = $Step.Id
        WorkingDirectory = (Resolve-WorkingDirectory -Path $Step.WorkDir)
        OkExitCodes      = $Step.OkExitCodes
    }
    if ($Step.Mutating) {
        if ($PSCmdlet.ShouldProcess($Step.Target, $Step.Title)) {
            $result = Invoke-DockerCommand @splatDocker
            Add-StepNote -Text ('docker exited with code ' + $result.ExitCode)
        } else {
            $script:StepDeclined = $true
        }
    } else {
        $result = Invoke-DockerCommand @splatDocker
        Add-StepNote -Text ('docker exited with code ' + $result.ExitCode)
    }
}

function Invoke-HostAction {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    switch ($Step.Action) {
        'check-host' {
            Test-MigrationHost -Step $Step
        }
        'prepare-backup-folder' {
            Initialize-BackupFolder -Step $Step
        }
        'write-env-file' {
            Export-ContainerEnvironment -Step $Step
        }
        'verify-backups' {
            Test-BackupArtifact -Step $Step
        }
        'stop-desktop' {
            Stop-DockerDesktop -Step $Step
        }
        'backup-file' {
            Backup-SettingsFile -Step $Step
        }
        'enable-feature' {
            Enable-WslWindowsFeature -Step $Step
        }
        'reboot' {
            Register-ResumeTask -Step $Step
        }
        'set-desktop-setting' {
            Edit-DesktopSetting -Step $Step
        }
        'edit-daemon-config' {
            Edit-DaemonConfig -Step $Step
        }
        'write-wslconfig' {
            Merge-WslConfig -Step $Step
        }
        'start-desktop' {
            Start-DockerDesktop -Step $Step
        }
        'wait-engine' {
            Wait-DockerEngine -Step $Step
        }
        'verify-target' {
            Test-TargetEngine -Step $Step
        }
        'finish' {
            Complete-Migration -Step $Step
        }
        default {
            throw ('step ' + $Step.Id + ': unknown host action ' + $Step.Action)
        }
    }
}

function Invoke-RunbookStep {
    # Runs one step: journal check, dependencies and the backup gate, the work, artifacts, one result object.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Step
    )
    $startedAt = Get-Date
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $splatProgress = @{
        Activity        = 'wsl2-migrate runbook'
        Status          = ('Step {0} of {1}: {2}' -f $Step.Index, $script:StepTotal, $Step.Id)
        PercentComplete = [int](100 * ($Step.Index - 1) / $script:StepTotal)
    }
    Write-Progress @splatProgress
    Write-Information -MessageData ('[{0}/{1}] {2}: {3}' -f $Step.Index, $script:StepTotal, $Step.Id, $Step.Title) -InformationAction Continue
    if ((Get-JournalStepStatus -Id $Step.Id) -eq 'done') {
        $script:RunStatus[$Step.Id] = 'done'
        return ConvertTo-StepResult -Step $Step -Status 'Skipped' -Notes ('already done ' + $script:Journal.Steps[$Step.Id].EndedAt) -StartedAt $startedAt -Duration $clock.Elapsed
    }
    $blocker = Get-StepBlocker -Step $Step
    if ($null -ne $blocker) {
        if ($blocker.Status -eq 'WouldRun') {
            $script:RunStatus[$Step.Id] = 'wouldrun'
            return ConvertTo-StepResult -Step $Step -Status 'WouldRun' -Notes $blocker.Notes -StartedAt $startedAt -Duration $clock.Elapsed
        }
        $script:RunStatus[$Step.Id] = 'failed'
        ConvertTo-StepResult -Step $Step -Status 'Failed' -Notes $blocker.Notes -StartedAt $startedAt -Duration $clock.Elapsed
        throw ('step ' + $Step.Id + ': ' + $blocker.Notes)
    }
    $script:StepDeclined = $false
    $script:StepNotes = New-Object -TypeName 'System.Collections.Generic.List[string]'
    Write-JournalStep -Id $Step.Id -Status 'running'
    try {
        if (@($Step.CommandLine).Count -gt 0) {
            $null = Invoke-DockerStep -Step $Step
        } else {
            $null = Invoke-HostAction -Step $Step
        }
        if ($script:StepDeclined) {
            Write-JournalStep -Id $Step.Id -Status 'pending' -Notes 'not run (-WhatIf or declined)'
            $script:RunStatus[$Step.Id] = 'wouldrun'
            $status = 'WouldRun'
        } else {
            if (-not $script:DryRun -and @($Step.Produces).Count -gt 0) {
                foreach ($artifact in $Step.Produces) {
                    Save-StepArtifact -Step $Step -Artifact $artifact
                }
                Save-ArtifactManifest
            }
            $script:RunStatus[$Step.Id] = 'done'
            Write-JournalStep -Id $Step.Id -Status 'done' -Notes ($script:StepNotes -join '; ')
            $status = 'Successful'
        }
    } catch {
        $failure = $_
        $script:RunStatus[$Step.Id] = 'failed'
        Write-JournalStep -Id $Step.Id -Status 'failed' -Notes $failure.Exception.Message
        Write-RunbookLog -StepId $Step.Id -Message ('failed: ' + $failure.Exception.Message)
        ConvertTo-StepResult -Step $Step -Status 'Failed' -Notes $failure.Exception.Message -StartedAt $startedAt -Duration $clock.Elapsed
        throw $failure
    }
    return ConvertTo-StepResult -Step $Step -Status $status -Notes ($script:StepNotes -join '; ') -StartedAt $startedAt -Duration $clock.Elapsed
}

# ---------------------------------------------------------------------------------------------------------------
# Rollback (-Rollback): back to the old backend's settings; the Hyper-V disk and the backups are never touched

function Undo-Migration {
    [CmdletBinding(SupportsShouldProcess)]
    param()
    $stepId = 'rollback'
    $rollbackStep = @{ Id = $stepId; Params = '{}'; Engine = 'source' }
    $script:StepDeclined = $false
    Stop-DockerDesktop -Step $rollbackStep
    if ($script:StepDeclined -and -not $script:DryRun) {
        Write-Warning -Message 'Docker Desktop was not stopped: nothing restored'
        return
    }
    $manifest = Read-JsonDocument -Path (Get-BackupItemPath -Relative 'settings/manifest.json')
    $settingsRestored = $false
    if ($null -eq $manifest) {
        Write-Warning -Message 'no settings backup (settings\manifest.json) in the backup folder: only wslEngineEnabled is reset'
    } else {
        foreach ($file in (Get-JsonProperty -Object $manifest -Name 'files' -Default @())) {
            $path = [string]$file.path
            if ([bool]$file.present) {
                $copy = Get-BackupItemPath -Relative ([string]$file.backup)
                $bytes = [System.IO.File]::ReadAllBytes($copy)
                $hash = (Get-FileHash -LiteralPath $copy -Algorithm SHA256).Hash.ToLowerInvariant()
                if ($hash -ne [string]$file.sha256) {
                    throw ($copy + ' does not match its recorded hash: not restoring it')
                }
                if ([System.IO.File]::Exists($path) -and (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant() -eq $hash) {
                    continue
                }
                if ($PSCmdlet.ShouldProcess($path, 'Restore the copy made before the migration')) {
                    if ([System.IO.File]::Exists($path)) {
                        [void](Save-FileSnapshot -Path $path -Bytes ([System.IO.File]::ReadAllBytes($path)) -Folder 'rollback')
                    }
                    [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($path))
                    Write-BytesFileAtomic -Path $path -Bytes $bytes
                    Write-RunbookLog -StepId $stepId -Message ('restored ' + $path)
                    if ([string]$file.set -eq 'desktop-settings') {
                        $settingsRestored = $true
                    }
                }
            } elseif ([System.IO.File]::Exists($path) -and @('wslconfig', 'daemon-linux') -contains [string]$file.set) {
                # The file did not exist before: move the one the runbook wrote into the backup folder (not deleted).
                if ($PSCmdlet.ShouldProcess($path, 'Move the file the migration created into the backup folder')) {
                    $aside = Get-BackupItemPath -Relative 'rollback'
                    [void][System.IO.Directory]::CreateDirectory($aside)
                    $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMdd-HHmmss', $script:Invariant)
                    [System.IO.File]::Move($path, [System.IO.Path]::Combine($aside, $stamp + '-' + [System.IO.Path]::GetFileName($path)))
                }
            }
        }
    }
    $settings = Get-DesktopSettingsPath
    if ([System.IO.File]::Exists($settings)) {
        $current = ConvertFrom-Json -InputObject (Read-TextFile -Path $settings)
        $flag = Find-JsonProperty -Object $current -Name 'wslEngineEnabled'
        if ($null -ne $flag -and $flag.Value -ne $false -and -not $settingsRestored) {
            $set = ConvertFrom-Json -InputObject '{"wslEngineEnabled": false}'
            Update-JsonFile -Path $settings -Set $set -StepId $stepId
        }
    }
    if ($PSCmdlet.ShouldProcess('Docker Desktop', 'Start with the restored settings')) {
        Start-DockerDesktop -Step $rollbackStep
        if (-not $script:DryRun) {
            $script:Journal.Rollbacks.Add((Get-TimeStamp))
            Save-Journal
        }
    }
    Write-Information -MessageData ('rollback done; backups are still in ' + $script:BackupRoot) -InformationAction Continue
}

# ---------------------------------------------------------------------------------------------------------------
# Main

function Invoke-Runbook {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable]$Options
    )
    $script:DryRun = [bool]$WhatIfPreference
    $script:Options = $Options
    $script:BackupRoot = Assert-BackupFolderPath -Path $Options.BackupPath
    $script:Engines = @{
        source = Assert-EngineUrl -Url $Options.SourceEngine -Name 'SourceEngine'
        target = Assert-EngineUrl -Url $Options.TargetEngine -Name 'TargetEngine'
    }
    $script:DockerExe = Resolve-DockerExecutable -Path $Options.DockerPath
    if ($Options.Rollback -and ($Options.ResumeFrom.Length -gt 0 -or $Options.Phase.Length -gt 0)) {
        throw '-Rollback cannot be combined with -ResumeFrom or -Phase'
    }
    if ($Options.ResumeFrom.Length -gt 0 -and $Options.Phase.Length -gt 0) {
        throw 'use either -ResumeFrom or -Phase'
    }
    if (-not (Test-Elevated)) {
        if (-not $script:DryRun) {
            throw 'the runbook must run elevated (Run as administrator); -WhatIf works without'
        }
        Write-Warning -Message 'not elevated: the dry run goes on, the real run will need an elevated PowerShell'
    }
    $runId = (Get-Date).ToUniversalTime().ToString('yyyyMMdd-HHmmss', $script:Invariant) + '-' + $PID
    $logFolder = $script:BackupRoot
    if (-not [System.IO.Directory]::Exists($logFolder)) {
        if ($script:DryRun) {
            $logFolder = [System.IO.Path]::GetTempPath().TrimEnd([char[]]@([char]92))
        } else {
            [void][System.IO.Directory]::CreateDirectory($logFolder)
        }
    }
    $transcriptPath = [System.IO.Path]::Combine($logFolder, 'transcript-' + $runId + '.txt')
    $transcriptStarted = $false
    try {
        [void](Start-Transcript -LiteralPath $transcriptPath -WhatIf:$false)
        $transcriptStarted = $true
    } catch {
        Write-Warning -Message ('no transcript: ' + $_.Exception.Message)
    }
    try {
        if (-not $script:DryRun) {
            $script:LogPath = [System.IO.Path]::Combine($logFolder, 'runbook-' + $runId + '.jsonl')
        }
        Write-RunbookLog -Message ('plan ' + $script:PlanHash + ', runbook ' + $script:ToolVersion + ', backup folder ' + $script:BackupRoot + ', dry run ' + $script:DryRun)
        Import-Journal
        Import-ArtifactManifest
        if ($Options.Resume -and -not $script:Journal.Exists) {
            throw ('-Resume: no journal.json in ' + $script:BackupRoot)
        }
        if ($Options.Rollback) {
            Undo-Migration
            return
        }
        $started = $Options.ResumeFrom.Length -eq 0
        foreach ($step in $script:Steps) {
            if (-not $started) {
                if ($step.Id -ne $Options.ResumeFrom) {
                    continue
                }
                $started = $true
            }
            if ($Options.Phase.Length -gt 0 -and $step.Phase -ne $Options.Phase) {
                continue
            }
            Invoke-RunbookStep -Step $step
            if ($script:StopRequested) {
                Write-Warning -Message ('Restart Windows now. After you log on, the task ' + $script:ResumeTaskName + ' resumes the runbook; or run it again with -Resume.')
                break
            }
        }
    } finally {
        Write-Progress -Activity 'wsl2-migrate runbook' -Completed
        $counts = @($script:Results | Group-Object -Property Status | ForEach-Object -Process { $_.Name + ' ' + $_.Count })
        Write-Information -MessageData ('steps: ' + ($counts -join ', ') + ' (of ' + $script:StepTotal + ')') -InformationAction Continue
        foreach ($result in $script:Results) {
            Write-Information -MessageData ('{0,-10} {1} {2}' -f $result.Status, $result.StepId, $result.Notes) -InformationAction Continue
        }
        if ($transcriptStarted) {
            [void](Stop-Transcript)
        }
    }
}
