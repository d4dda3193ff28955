#pragma once
// The version every app reports (--version) and writes with what it saves. Bump it when a saved
// file's format or a default that changes results changes.
#define CELLGRAD_VERSION "0.3.0"
