#ifndef ENTENTE_CSODIUM_SHIM_H
#define ENTENTE_CSODIUM_SHIM_H
#include <sodium.h>
#endif
