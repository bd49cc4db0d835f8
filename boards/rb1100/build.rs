fn main() {
    board_link::configure();
}
