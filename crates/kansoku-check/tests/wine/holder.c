/* A benign stand-in for a running worm process in tests/wine.rs: it holds a named mutex and
 * listens on a loopback TCP port, writes a file to say it is ready, then waits to be killed.
 * It does nothing else (no network traffic, no payload).
 * Usage: holder MUTEX PORT READY_FILE */
#include <winsock2.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 4)
        return 2;
    if (!CreateMutexA(NULL, FALSE, argv[1]))
        return 1;
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa))
        return 1;
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in at = {0};
    at.sin_family = AF_INET;
    at.sin_port = htons((u_short)atoi(argv[2]));
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s == INVALID_SOCKET || bind(s, (struct sockaddr *)&at, sizeof at) || listen(s, 1))
        return 1;
    FILE *ready = fopen(argv[3], "w");
    if (!ready)
        return 1;
    fputs("ready\n", ready);
    fclose(ready);
    Sleep(INFINITE);
    return 0;
}
